package execstream

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/sys/unix"
)

// Connect error codes (as connect.Code's String) this package produces or
// callers test for.
const (
	CodeCanceled          = "canceled"
	CodeUnknown           = "unknown"
	CodeInternal          = "internal"
	CodeUnavailable       = "unavailable"
	CodeUnauthenticated   = "unauthenticated"
	CodeUnimplemented     = "unimplemented"
	CodePermissionDenied  = "permission_denied"
	CodeResourceExhausted = "resource_exhausted"
)

// Error is a Connect error: a code and a message, printed as connect-go
// prints its errors ("code: message").
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// CodeOf is err's Connect code, "" when err is not an *Error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// codeForHTTP maps the HTTP status of a refused streaming call to its
// Connect code, as the protocol's specification says clients must.
func codeForHTTP(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeInternal
	case http.StatusUnauthorized:
		return CodeUnauthenticated
	case http.StatusForbidden:
		return CodePermissionDenied
	case http.StatusNotFound:
		return CodeUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return CodeUnavailable
	}
	return CodeUnknown
}

// ErrNoEnd is a stream that ended cleanly without the command's end.
var ErrNoEnd = errors.New("the output stream ended without the command's exit")

// Describe turns a sidecar error with Connect code code ("" for other
// errors) into a message that says what to do. The full CLI's
// sidecarrpc.Describe says the same through it.
func Describe(name, code string, err error) error {
	switch code {
	case CodeUnauthenticated:
		return fmt.Errorf("the sidecar of sandbox %q refused the token: %w (was the sandbox's pod replaced? retry)", name, err)
	case CodeUnavailable:
		return fmt.Errorf("the sidecar of sandbox %q is unreachable: %w (is the pod running? try --connect=port-forward)", name, err)
	case "":
		if !errors.Is(err, ErrNoEnd) {
			return err
		}
	}
	return fmt.Errorf("sandbox %q: %w", name, err)
}

// EndCode is the exit code a shell would report for a process end: 128+N
// for signal N, 124 (with a note on stderr) for a timeout.
func EndCode(stderr io.Writer, end End) int {
	switch {
	case end.TimedOut:
		fmt.Fprintln(stderr, "kubectl arl: the command timed out and was killed")
		return 124
	case end.Signal != "":
		if n := unix.SignalNum(end.Signal); n > 0 {
			if end.ExitCode <= 0 {
				return 128 + int(n)
			}
		}
	}
	if end.ExitCode < 0 || end.ExitCode > 255 {
		return 1
	}
	return int(end.ExitCode)
}

// trimmed is at most n bytes of s for an error message.
func trimmed(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
