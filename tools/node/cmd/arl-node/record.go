package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// nodeRecord is what `arl-node cleanup`, given only the state dir, needs to
// know of the node that ran there.
type nodeRecord struct {
	PodCIDR string `json:"podCIDR"`
	Bridge  string `json:"bridge"`
}

const nodeRecordFile = "node.json"

func writeNodeRecord(stateDir string, rec nodeRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode node record: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, nodeRecordFile), data, 0o644); err != nil {
		return fmt.Errorf("write node record: %w", err)
	}
	return nil
}

// readNodeRecord returns an empty record when the node never ran there.
func readNodeRecord(stateDir string) (nodeRecord, error) {
	var rec nodeRecord
	data, err := os.ReadFile(filepath.Join(stateDir, nodeRecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, fmt.Errorf("read node record: %w", err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("parse node record: %w", err)
	}
	return rec, nil
}
