package sandbox

import (
	"encoding/json"
	"fmt"
)

func marshalSpec(spec containerInitSpec) ([]byte, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode container spec: %w", err)
	}
	return data, nil
}
