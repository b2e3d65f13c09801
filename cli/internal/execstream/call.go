package execstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Procedure is the RPC's path (sidecarv1connect.SidecarServiceExecuteStreamProcedure).
const Procedure = "/arl.sidecar.v1.SidecarService/ExecuteStream"

// MaxMessageBytes bounds one message, as the full CLI's client
// (connect.WithReadMaxBytes).
const MaxMessageBytes = 64 << 20

const contentType = "application/connect+proto"

// Envelope flags of the Connect streaming protocol.
const (
	flagCompressed = 0x01
	flagEndStream  = 0x02
)

// Result is how a streamed command went.
type Result struct {
	// End is the command's end (nil when Err is set).
	End *End
	// Events counts the stream's messages: 0 with an error means the sidecar
	// answered nothing for this command (the call was refused or never got
	// through).
	Events int
	// Err is the call's error: an *Error with a Connect code, ErrNoEnd, or
	// an error from onOutput.
	Err error
}

// Call runs req with ExecuteStream on conn (a connection to address,
// "host:port") with token (if any) as the bearer token, calls onSent (if
// not nil) once the request is written, onOutput for each output chunk as
// it arrives, and returns when the command's end arrives. It sends
// "Connection: close" and closes conn before returning; a cancelled ctx
// closes it at once.
func Call(ctx context.Context, conn net.Conn, address, token string, req *Request, onSent func(), onOutput func(Output) error) Result {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	res := call(conn, address, token, req, onSent, onOutput)
	if res.Err != nil && ctx.Err() != nil {
		res.Err = &Error{Code: CodeCanceled, Message: ctx.Err().Error()}
	}
	return res
}

func call(conn net.Conn, address, token string, req *Request, onSent func(), onOutput func(Output) error) Result {
	msg := req.marshal()
	body := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:], uint32(len(msg)))
	body = append(body, msg...)
	hreq, err := http.NewRequest(http.MethodPost, "http://"+address+Procedure, bytes.NewReader(body))
	if err != nil {
		return Result{Err: &Error{Code: CodeInternal, Message: err.Error()}}
	}
	hreq.Close = true
	hreq.Header = http.Header{
		"Content-Type":             {contentType},
		"Connect-Protocol-Version": {"1"},
		"User-Agent":               {"kubectl-arl"},
	}
	if token != "" {
		hreq.Header.Set("Authorization", "Bearer "+token)
	}
	if err := hreq.Write(conn); err != nil {
		return Result{Err: &Error{Code: CodeUnavailable, Message: err.Error()}}
	}
	if onSent != nil {
		onSent()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), hreq)
	if err != nil {
		return Result{Err: &Error{Code: CodeUnavailable, Message: fmt.Sprintf("reading the response: %v", err)}}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return Result{Err: &Error{Code: codeForHTTP(resp.StatusCode),
			Message: fmt.Sprintf("HTTP status %s: %s", resp.Status, trimmed(string(text), 200))}}
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentType {
		return Result{Err: &Error{Code: CodeInternal, Message: fmt.Sprintf("unexpected Content-Type %q (want %q): not the sidecar's API?", ct, contentType)}}
	}
	var res Result
	r := bufio.NewReader(resp.Body)
	var head [5]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			res.Err = readError(err)
			return res
		}
		size := binary.BigEndian.Uint32(head[1:])
		if size > MaxMessageBytes {
			res.Err = &Error{Code: CodeResourceExhausted, Message: fmt.Sprintf("message of %d bytes is over the %d byte limit", size, MaxMessageBytes)}
			return res
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			res.Err = readError(err)
			return res
		}
		if head[0]&flagCompressed != 0 {
			res.Err = &Error{Code: CodeInternal, Message: "compressed message, although none was asked for"}
			return res
		}
		if head[0]&flagEndStream != 0 {
			res.Err = endStreamError(data)
			return res
		}
		ev, err := unmarshalEvent(data)
		if err != nil {
			res.Err = &Error{Code: CodeInternal, Message: err.Error()}
			return res
		}
		res.Events++
		switch {
		case ev.output != nil:
			if err := onOutput(*ev.output); err != nil {
				res.Err = fmt.Errorf("writing output: %w", err)
				return res
			}
		case ev.end != nil:
			res.End = ev.end
			return res
		}
	}
}

// readError is the error for a failed read of the stream: ErrNoEnd when it
// ended cleanly between messages, else unavailable (the connection broke).
func readError(err error) error {
	if errors.Is(err, io.EOF) {
		return ErrNoEnd
	}
	return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("reading the stream: %v", err)}
}

// endStreamError decodes the end-of-stream message: its error, else
// ErrNoEnd (the stream ended without the command's end).
func endStreamError(data []byte) error {
	var end struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &end); err != nil {
		return &Error{Code: CodeInternal, Message: fmt.Sprintf("decoding the end of the stream: %v", err)}
	}
	if end.Error == nil {
		return ErrNoEnd
	}
	code := strings.TrimSpace(end.Error.Code)
	if code == "" {
		code = CodeUnknown
	}
	return &Error{Code: code, Message: end.Error.Message}
}
