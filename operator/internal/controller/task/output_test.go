package task

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOutputJoiner(t *testing.T) {
	type part struct {
		step       string
		out        string
		sidecarCut bool
	}
	tests := []struct {
		name  string
		limit int
		parts []part
		want  string
	}{
		{
			name:  "steps are concatenated in order with no separator",
			limit: 100,
			parts: []part{{"a", "one\n", false}, {"b", "two", false}, {"c", "three\n", false}},
			want:  "one\ntwothree\n",
		},
		{
			name:  "empty outputs add nothing",
			limit: 100,
			parts: []part{{"a", "", false}, {"b", "x\n", false}, {"c", "", false}},
			want:  "x\n",
		},
		{
			name:  "exactly at the limit is not truncated",
			limit: 4,
			parts: []part{{"a", "ab", false}, {"b", "cd", false}},
			want:  "abcd",
		},
		{
			name:  "over the limit keeps the head and counts every dropped byte",
			limit: 5,
			parts: []part{{"a", "abc", false}, {"b", "defgh", false}, {"c", "ijk", false}},
			want:  "abcde\n...[truncated 6 bytes; status keeps the first 5; redirect the output to a file in the workspace to keep all of it]",
		},
		{
			name:  "a multi-byte character is never split",
			limit: 4,
			parts: []part{{"a", "abc€", false}},
			want:  "abc\n...[truncated 3 bytes; status keeps the first 4; redirect the output to a file in the workspace to keep all of it]",
		},
		{
			name:  "a cut made by the sidecar is reported by step name",
			limit: 100,
			parts: []part{{"build", "log", true}, {"test", "ok", true}},
			want:  "logok\n...[output of step(s) build, test cut by the sidecar's per-process limit]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newOutputJoiner(tt.limit)
			for _, p := range tt.parts {
				j.add(p.step, p.out, p.sidecarCut)
			}
			if got := j.String(); got != tt.want {
				t.Errorf("joined output:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestOutputJoinerStaysUnderLimitForHugeOutput(t *testing.T) {
	j := newOutputJoiner(DefaultOutputLimitBytes)
	for range 10 {
		j.add("spam", strings.Repeat("x", 1<<20), false)
	}
	got := j.String()
	if len(got) > DefaultOutputLimitBytes+200 {
		t.Fatalf("joined output is %d bytes, want at most the limit plus the marker", len(got))
	}
	if !strings.Contains(got, "[truncated 10452992 bytes") {
		t.Fatalf("marker missing or wrong: %q", got[len(got)-150:])
	}
	if !utf8.ValidString(got) {
		t.Fatal("joined output is not valid UTF-8")
	}
}

func TestOutputJoinerDefaultLimit(t *testing.T) {
	if j := newOutputJoiner(0); j.limit != DefaultOutputLimitBytes {
		t.Fatalf("limit = %d, want the default %d", j.limit, DefaultOutputLimitBytes)
	}
}
