package execstream

import (
	"maps"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

func TestRequestDecodesWithTheGeneratedCode(t *testing.T) {
	for _, req := range []Request{
		{},
		{Command: []string{"true"}},
		{Command: []string{"sh", "-c", "echo ü"}, WorkingDir: "/workspace/a b", Env: map[string]string{"A": "1", "EMPTY": "", "ü": "=x="}, TimeoutSeconds: 300},
		{Command: []string{""}, TimeoutSeconds: -1},
	} {
		var got sidecarv1.ExecuteStreamRequest
		if err := proto.Unmarshal(req.marshal(), &got); err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if !slices.Equal(got.Command, req.Command) || got.WorkingDir != req.WorkingDir || got.TimeoutSeconds != req.TimeoutSeconds ||
			!maps.Equal(got.Env, req.Env) && len(got.Env)+len(req.Env) > 0 || got.Stdin != nil {
			t.Errorf("sent %+v, the sidecar reads %v", req, &got)
		}
	}
}

func TestEventsDecodeAsTheGeneratedCodeEncodesThem(t *testing.T) {
	cases := []struct {
		msg  *sidecarv1.ExecuteStreamResponse
		want event
	}{
		{&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Start{Start: &sidecarv1.ProcessStarted{Pid: 42}}}, event{}},
		{&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Output{Output: &sidecarv1.OutputChunk{
			Stream: sidecarv1.Stream_STREAM_STDERR, Data: []byte("a\x00b\n")}}}, event{output: &Output{Stream: StreamStderr, Data: []byte("a\x00b\n")}}},
		{&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Output{Output: &sidecarv1.OutputChunk{
			Stream: sidecarv1.Stream_STREAM_STDOUT}}}, event{output: &Output{Stream: StreamStdout}}},
		{&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_End{End: &sidecarv1.ProcessEnded{
			ExitCode: -1, TimedOut: true, Signal: "SIGKILL", DurationMs: 1 << 40}}}, event{end: &End{ExitCode: -1, TimedOut: true, Signal: "SIGKILL", DurationMs: 1 << 40}}},
		{&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_End{End: &sidecarv1.ProcessEnded{ExitCode: 3}}}, event{end: &End{ExitCode: 3}}},
	}
	for _, c := range cases {
		data, err := proto.Marshal(c.msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := unmarshalEvent(data)
		if err != nil {
			t.Fatalf("%v: %v", c.msg, err)
		}
		if (got.output == nil) != (c.want.output == nil) || (got.end == nil) != (c.want.end == nil) ||
			got.output != nil && (got.output.Stream != c.want.output.Stream || string(got.output.Data) != string(c.want.output.Data)) ||
			got.end != nil && *got.end != *c.want.end {
			t.Errorf("%v decoded as %+v %+v, want %+v %+v", c.msg, got.output, got.end, c.want.output, c.want.end)
		}
	}
}

func TestEventsSkipUnknownFieldsAndRefuseTruncatedOnes(t *testing.T) {
	end, err := proto.Marshal(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_End{End: &sidecarv1.ProcessEnded{ExitCode: 9}}})
	if err != nil {
		t.Fatal(err)
	}
	// Unknown fields 9 (fixed64), 10 (fixed32) and 11 (varint) before the end.
	unknown := append([]byte{9<<3 | 1, 1, 2, 3, 4, 5, 6, 7, 8, 10<<3 | 5, 1, 2, 3, 4, 11 << 3, 0x80, 0x01}, end...)
	if got, err := unmarshalEvent(unknown); err != nil || got.end == nil || got.end.ExitCode != 9 {
		t.Fatalf("with unknown fields: %+v, %v", got.end, err)
	}
	for i := 1; i < len(end); i++ {
		if _, err := unmarshalEvent(end[:i]); err == nil {
			t.Errorf("the first %d of %d bytes decoded without an error", i, len(end))
		}
	}
}
