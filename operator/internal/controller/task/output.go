package task

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultOutputLimitBytes caps status.stdout and status.stderr each. etcd
// refuses objects over ~1.5 MB; two 32 KiB fields leave room for everything
// else and keep `kubectl get -o yaml` readable.
const DefaultOutputLimitBytes = 32 << 10

// outputJoiner builds status.stdout (or stderr) of one attempt.
//
// The join: the output of the Command steps, in step order, concatenated
// byte for byte with no separator, as if the steps ran one after another in
// a shell script. A step that prints no trailing newline runs into the next
// step's output. FilePatch steps print nothing; a step the sidecar could not
// run contributes a one-line "arl: ..." message to stderr.
//
// The cap keeps the first limit bytes (cut on a UTF-8 boundary) and then
// appends a marker saying how much was dropped (each step's full size is in
// .status.steps[].stdoutBytes/stderrBytes). The sidecar does not keep a
// foreground command's output after answering, so the marker tells the
// user to write big output to a file instead. The marker is not counted in
// limit.
type outputJoiner struct {
	limit int
	kept  strings.Builder
	// dropped counts the bytes cut by this cap.
	dropped int64
	// sidecarCut names the steps whose output the sidecar itself cut at its
	// own per-process limit before it reached us.
	sidecarCut []string
}

func newOutputJoiner(limit int) *outputJoiner {
	if limit <= 0 {
		limit = DefaultOutputLimitBytes
	}
	return &outputJoiner{limit: limit}
}

// add appends one step's output; truncatedBySidecar says the sidecar kept
// only part of it.
func (j *outputJoiner) add(step string, out string, truncatedBySidecar bool) {
	if truncatedBySidecar {
		j.sidecarCut = append(j.sidecarCut, step)
	}
	room := j.limit - j.kept.Len()
	if room >= len(out) {
		j.kept.WriteString(out)
		return
	}
	if room > 0 {
		head := cutAtRuneBoundary(out, room)
		j.kept.WriteString(head)
		out = out[len(head):]
	}
	j.dropped += int64(len(out))
}

// String returns the joined output with its truncation marker, if any.
func (j *outputJoiner) String() string {
	s := j.kept.String()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if j.dropped > 0 {
		s += fmt.Sprintf("\n...[truncated %d bytes; status keeps the first %d; redirect the output to a file in the workspace to keep all of it]", j.dropped, j.limit)
	}
	if len(j.sidecarCut) > 0 {
		s += fmt.Sprintf("\n...[output of step(s) %s cut by the sidecar's per-process limit]", strings.Join(j.sidecarCut, ", "))
	}
	return s
}

// cutAtRuneBoundary returns the longest prefix of s of at most n bytes that
// does not split a UTF-8 sequence.
func cutAtRuneBoundary(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
