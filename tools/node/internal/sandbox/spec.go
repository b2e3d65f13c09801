package sandbox

import (
	"encoding/json"
	"fmt"
)

func marshalSpec(spec containerInitSpec) (string, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("encode container spec: %w", err)
	}
	return string(data), nil
}
