package execstream

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Request is arl.sidecar.v1.ExecuteStreamRequest without stdin (the fast
// path does not take --stdin).
type Request struct {
	Command        []string
	WorkingDir     string
	Env            map[string]string
	TimeoutSeconds int32
}

// Field numbers of proto/arl/sidecar/v1/sidecar.proto (messages_test.go
// checks them against the generated code).
const (
	reqCommand        = 1
	reqWorkingDir     = 2
	reqEnv            = 3
	reqTimeoutSeconds = 5

	respStart  = 1
	respOutput = 2
	respEnd    = 3

	outputStream = 1
	outputData   = 2

	endExitCode   = 1
	endTimedOut   = 2
	endSignal     = 3
	endDurationMs = 4
)

// Stream values of arl.sidecar.v1.Stream.
const (
	StreamStdout = 1
	StreamStderr = 2
)

// Wire types of the protobuf encoding
// (https://protobuf.dev/programming-guides/encoding/).
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// The encoding's varints are encoding/binary's uvarints. This file codes the
// two messages by hand, rather than with the generated code and the protobuf
// runtime, because linking that runtime (its descriptor registries, and
// protowire's dependence on a package that opens and reads the binary
// itself at init)
// costs the front more start-up time than the call itself.

func appendTag(b []byte, num, typ int) []byte {
	return binary.AppendUvarint(b, uint64(num)<<3|uint64(typ))
}

func appendString(b []byte, num int, s string) []byte {
	b = appendTag(b, num, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// marshal encodes r in the protobuf wire format.
func (r *Request) marshal() []byte {
	var b []byte
	for _, c := range r.Command {
		b = appendString(b, reqCommand, c)
	}
	if r.WorkingDir != "" {
		b = appendString(b, reqWorkingDir, r.WorkingDir)
	}
	for k, v := range r.Env { // a map entry is a message {1: key, 2: value}
		e := appendString(appendString(nil, 1, k), 2, v)
		b = appendString(b, reqEnv, string(e))
	}
	if r.TimeoutSeconds != 0 {
		b = appendTag(b, reqTimeoutSeconds, wireVarint)
		b = binary.AppendUvarint(b, uint64(int64(r.TimeoutSeconds))) // int32: sign-extended
	}
	return b
}

// Output is arl.sidecar.v1.OutputChunk.
type Output struct {
	Stream int
	Data   []byte
}

// End is arl.sidecar.v1.ProcessEnded.
type End struct {
	ExitCode   int32
	TimedOut   bool
	Signal     string
	DurationMs int64
}

// event is one decoded ExecuteStreamResponse: at most one of output and end
// is set (neither for a ProcessStarted or a field this client does not
// know).
type event struct {
	output *Output
	end    *End
}

var errTruncated = errors.New("truncated or malformed protobuf message")

// fields calls f for each field of a message, with v the varint value
// (varint fields) or the bytes (length-delimited fields); fixed-size fields
// are skipped, groups (unused by proto3) are an error.
func fields(b []byte, f func(num int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 || tag>>3 == 0 || tag>>3 > 1<<29-1 {
			return errTruncated
		}
		b = b[n:]
		num := int(tag >> 3)
		var v uint64
		var data []byte
		switch tag & 7 {
		case wireVarint:
			if v, n = binary.Uvarint(b); n <= 0 {
				return errTruncated
			}
		case wireBytes:
			l, m := binary.Uvarint(b)
			if m <= 0 || l > uint64(len(b)-m) {
				return errTruncated
			}
			data, n = b[m:m+int(l)], m+int(l)
		case wireFixed64:
			n = 8
		case wireFixed32:
			n = 4
		default:
			return fmt.Errorf("field %d: unsupported wire type %d", num, tag&7)
		}
		if n > len(b) {
			return errTruncated
		}
		b = b[n:]
		if err := f(num, v, data); err != nil {
			return err
		}
	}
	return nil
}

// unmarshalEvent decodes an ExecuteStreamResponse. As with any protobuf
// decoder, the last oneof member on the wire wins and unknown fields are
// skipped.
func unmarshalEvent(b []byte) (event, error) {
	var ev event
	err := fields(b, func(num int, _ uint64, data []byte) error {
		switch num {
		case respStart:
			ev = event{}
		case respOutput:
			o := &Output{}
			if err := fields(data, func(num int, v uint64, data []byte) error {
				switch num {
				case outputStream:
					o.Stream = int(int32(v))
				case outputData:
					o.Data = data
				}
				return nil
			}); err != nil {
				return err
			}
			ev = event{output: o}
		case respEnd:
			e := &End{}
			if err := fields(data, func(num int, v uint64, data []byte) error {
				switch num {
				case endExitCode:
					e.ExitCode = int32(v)
				case endTimedOut:
					e.TimedOut = v != 0
				case endSignal:
					e.Signal = string(data)
				case endDurationMs:
					e.DurationMs = int64(v)
				}
				return nil
			}); err != nil {
				return err
			}
			ev = event{end: e}
		}
		return nil
	})
	if err != nil {
		return event{}, fmt.Errorf("decoding an ExecuteStream message: %w", err)
	}
	return ev, nil
}
