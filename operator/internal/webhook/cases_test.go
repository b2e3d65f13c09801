package webhook

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// validationCase is one entry of testdata/validation_cases.yaml, the case
// table the webhook tests and the SDK's tests share (the file says how).
type validationCase struct {
	Kind    string         `json:"kind"`
	Name    string         `json:"name"`
	Set     map[string]any `json:"set"`
	Want    []string       `json:"want"`
	Webhook bool           `json:"webhook"`
	SDK     string         `json:"sdk"`
}

// valid says whether the API server admits the case.
func (c validationCase) valid() bool { return len(c.Want) == 0 }

type caseTable struct {
	Bases map[string]map[string]any `json:"bases"`
	Cases []validationCase          `json:"cases"`
}

func loadCaseTable(t *testing.T) caseTable {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "validation_cases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var table caseTable
	if err := yaml.UnmarshalStrict(data, &table); err != nil {
		t.Fatalf("testdata/validation_cases.yaml: %v", err)
	}
	return table
}

// object builds the case's object: a copy of its kind's base with the
// case's fields set.
func (tb caseTable) object(t *testing.T, c validationCase) *unstructured.Unstructured {
	t.Helper()
	base, ok := tb.Bases[c.Kind]
	if !ok {
		t.Fatalf("case %q: no base object of kind %q", c.Name, c.Kind)
	}
	var obj map[string]any
	raw, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	// In path order, so that steps[2] is appended before steps[3].
	paths := slices.SortedFunc(maps.Keys(c.Set), func(a, b string) int {
		return slices.CompareFunc(mustParseFieldPath(t, a), mustParseFieldPath(t, b), compareTokens)
	})
	for _, p := range paths {
		node, err := setField(obj, mustParseFieldPath(t, p), c.Set[p])
		if err != nil {
			t.Fatalf("case %q: set %s: %v", c.Name, p, err)
		}
		obj = node.(map[string]any)
	}
	return &unstructured.Unstructured{Object: obj}
}

func mustParseFieldPath(t *testing.T, p string) []any {
	t.Helper()
	tokens, err := parseFieldPath(p)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// compareTokens orders indices by number, names by text, indices first.
func compareTokens(a, b any) int {
	ai, aIsIndex := a.(int)
	bi, bIsIndex := b.(int)
	switch {
	case aIsIndex && bIsIndex:
		return cmp.Compare(ai, bi)
	case aIsIndex:
		return -1
	case bIsIndex:
		return 1
	}
	return strings.Compare(a.(string), b.(string))
}

var fieldToken = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)((?:\[[0-9]+\])*)$`)

// parseFieldPath splits "spec.steps[0].path" into "spec", "steps", 0, "path".
func parseFieldPath(p string) ([]any, error) {
	var tokens []any
	for _, part := range strings.Split(p, ".") {
		m := fieldToken.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("bad field path %q at %q", p, part)
		}
		tokens = append(tokens, m[1])
		for _, index := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(m[2], "["), "]"), "][") {
			if index == "" {
				continue
			}
			i, err := strconv.Atoi(index)
			if err != nil {
				return nil, fmt.Errorf("bad index in %q: %w", p, err)
			}
			tokens = append(tokens, i)
		}
	}
	return tokens, nil
}

// setField sets the value at tokens under node (a nil value deletes a map
// key; an index one past a list's end appends) and returns the new node.
func setField(node any, tokens []any, value any) (any, error) {
	if len(tokens) == 0 {
		return value, nil
	}
	switch tok := tokens[0].(type) {
	case string:
		m, ok := node.(map[string]any)
		if node == nil {
			m, ok = map[string]any{}, true
		}
		if !ok {
			return nil, fmt.Errorf("field %q of a %T", tok, node)
		}
		if len(tokens) == 1 && value == nil {
			delete(m, tok)
			return m, nil
		}
		child, err := setField(m[tok], tokens[1:], value)
		if err != nil {
			return nil, err
		}
		m[tok] = child
		return m, nil
	case int:
		list, ok := node.([]any)
		if !ok && node != nil {
			return nil, fmt.Errorf("index %d of a %T", tok, node)
		}
		if tok > len(list) {
			return nil, fmt.Errorf("index %d past the end of a list of %d", tok, len(list))
		}
		var current any
		if tok < len(list) {
			current = list[tok]
		}
		child, err := setField(current, tokens[1:], value)
		if err != nil {
			return nil, err
		}
		if tok == len(list) {
			return append(list, child), nil
		}
		list[tok] = child
		return list, nil
	}
	return nil, fmt.Errorf("bad token %v", tokens[0])
}

// The table itself: names are unique and every field is used as documented.
func TestValidationCaseTableIsWellFormed(t *testing.T) {
	table := loadCaseTable(t)
	seen := map[string]bool{}
	for _, c := range table.Cases {
		key := c.Kind + "/" + c.Name
		if seen[key] {
			t.Errorf("case %s twice", key)
		}
		seen[key] = true
		if c.Webhook && c.valid() {
			t.Errorf("case %s: webhook: true on a valid case", key)
		}
		if c.SDK != "" && (c.valid() || c.Kind != "Task") {
			t.Errorf("case %s: sdk names the SDK's error for an invalid Task only", key)
		}
		table.object(t, c)
	}
}
