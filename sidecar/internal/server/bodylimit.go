package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// clientStreams are the procedures whose request body is a long stream:
// their size is capped message by message (connect.WithReadMaxBytes) and
// in total by the service (uploads), not here, and they get no read deadline.
var clientStreams = map[string]bool{
	sidecarv1connect.SidecarServiceInteractProcedure:   true,
	sidecarv1connect.SidecarServiceUploadFileProcedure: true,
	sidecarv1connect.SidecarServiceUploadTarProcedure:  true,
}

// limitBody caps request bodies and bounds the time to read them (a
// per-request read deadline that is lifted once the body is read, so a
// long-running call or a server stream is not cut), except for the client
// streams. It runs after the token check.
func limitBody(next http.Handler, maxBytes int64, readTimeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if clientStreams[r.URL.Path] || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if readTimeout > 0 && rc.SetReadDeadline(time.Now().Add(readTimeout)) == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline when the body has been read.
type deadlineBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.lifted {
		b.lifted = true
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

func (b *deadlineBody) Close() error {
	if !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return b.ReadCloser.Close()
}
