package execstream

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// sidecar is a connect-go ExecuteStream handler; each test sets run.
type sidecar struct {
	sidecarv1connect.UnimplementedSidecarServiceHandler
	run func(ctx context.Context, req *sidecarv1.ExecuteStreamRequest, s *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error
}

func (f *sidecar) ExecuteStream(ctx context.Context, req *connect.Request[sidecarv1.ExecuteStreamRequest], s *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
	if f.run == nil {
		return f.UnimplementedSidecarServiceHandler.ExecuteStream(ctx, req, s)
	}
	return f.run(ctx, req.Msg, s)
}

func output(s *connect.ServerStream[sidecarv1.ExecuteStreamResponse], st sidecarv1.Stream, data string) error {
	return s.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Output{
		Output: &sidecarv1.OutputChunk{Stream: st, Data: []byte(data)}}})
}

func ended(s *connect.ServerStream[sidecarv1.ExecuteStreamResponse], end *sidecarv1.ProcessEnded) error {
	return s.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_End{End: end}})
}

// serve runs f behind the sidecar's token check (a refusal written before
// the body is read, by connect's ErrorWriter, as sidecar/internal/server's
// requireToken does) over HTTP/1.1 and h2c, and returns its address.
func serve(t *testing.T, token string, f *sidecar) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(sidecarv1connect.NewSidecarServiceHandler(f))
	errWriter := connect.NewErrorWriter()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("Connection", "close")
			_ = errWriter.Write(w, r, connect.NewError(connect.CodeUnauthenticated, errors.New("missing or wrong token")))
			return
		}
		mux.ServeHTTP(w, r)
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func dialCall(t *testing.T, ctx context.Context, addr, token string, req *Request, onOutput func(Output) error) Result {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return Call(ctx, conn, addr, token, req, nil, onOutput)
}

func TestProcedureIsTheGeneratedOne(t *testing.T) {
	if Procedure != sidecarv1connect.SidecarServiceExecuteStreamProcedure {
		t.Fatalf("Procedure %q, generated %q", Procedure, sidecarv1connect.SidecarServiceExecuteStreamProcedure)
	}
}

func TestCallStreamsOutputLiveAndReturnsTheEnd(t *testing.T) {
	seen := make(chan struct{})
	addr := serve(t, "tok", &sidecar{run: func(ctx context.Context, req *sidecarv1.ExecuteStreamRequest, s *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
		if err := output(s, sidecarv1.Stream_STREAM_STDOUT, req.WorkingDir+" "+req.Env["A"]+"\n"); err != nil {
			return err
		}
		select { // the end waits until the client has seen the first output
		case <-seen:
		case <-time.After(10 * time.Second):
			return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the client did not see the output before the end"))
		}
		if err := output(s, sidecarv1.Stream_STREAM_STDERR, "err\n"); err != nil {
			return err
		}
		return ended(s, &sidecarv1.ProcessEnded{ExitCode: int32(len(req.Command)) + req.TimeoutSeconds, Signal: "SIGTERM"})
	}})
	var stdout, stderr bytes.Buffer
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	res := Call(t.Context(), conn, addr, "tok", &Request{Command: []string{"a", "b"}, WorkingDir: "/w", Env: map[string]string{"A": "x"}, TimeoutSeconds: 10},
		func() { sent++ },
		func(o Output) error {
			if sent != 1 {
				t.Errorf("output before the request was reported sent (%d times)", sent)
			}
			if o.Stream == StreamStderr {
				stderr.Write(o.Data)
				return nil
			}
			stdout.Write(o.Data)
			close(seen)
			return nil
		})
	if res.Err != nil || res.End == nil || *res.End != (End{ExitCode: 12, Signal: "SIGTERM"}) || res.Events != 3 {
		t.Fatalf("result %+v (end %+v), want end {12 SIGTERM} after 3 events", res, res.End)
	}
	if stdout.String() != "/w x\n" || stderr.String() != "err\n" {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestCallErrors(t *testing.T) {
	noOutput := func(Output) error { return nil }
	cases := map[string]struct {
		token  string
		run    func(context.Context, *sidecarv1.ExecuteStreamRequest, *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error
		code   string
		noEnd  bool
		events int
	}{
		"a refused token": {token: "wrong", code: CodeUnauthenticated},
		"an error before any output": {token: "tok", code: CodeInternal, run: func(context.Context, *sidecarv1.ExecuteStreamRequest, *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
			return connect.NewError(connect.CodeInternal, errors.New("boom"))
		}},
		"an error after output": {token: "tok", code: CodeUnavailable, events: 1, run: func(_ context.Context, _ *sidecarv1.ExecuteStreamRequest, s *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
			if err := output(s, sidecarv1.Stream_STREAM_STDOUT, "x"); err != nil {
				return err
			}
			return connect.NewError(connect.CodeUnavailable, errors.New("going away"))
		}},
		"a stream without the end": {token: "tok", noEnd: true, events: 1, run: func(_ context.Context, _ *sidecarv1.ExecuteStreamRequest, s *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
			return output(s, sidecarv1.Stream_STREAM_STDOUT, "x")
		}},
		"an older sidecar without the RPC": {token: "tok", code: CodeUnimplemented},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := &sidecar{run: c.run}
			addr := serve(t, "tok", f)
			res := dialCall(t, t.Context(), addr, c.token, &Request{Command: []string{"true"}}, noOutput)
			if c.noEnd && !errors.Is(res.Err, ErrNoEnd) || !c.noEnd && CodeOf(res.Err) != c.code || res.End != nil || res.Events != c.events {
				t.Fatalf("result %+v (err %v), want code %q (no end: %v) after %d events", res, res.Err, c.code, c.noEnd, c.events)
			}
		})
	}
}

func TestCallOnOtherServers(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>"))
	}))
	defer html.Close()
	for addr, code := range map[string]string{
		notFound.Listener.Addr().String(): CodeUnimplemented,
		html.Listener.Addr().String():     CodeInternal,
	} {
		res := dialCall(t, t.Context(), addr, "tok", &Request{Command: []string{"true"}}, func(Output) error { return nil })
		if CodeOf(res.Err) != code || res.Events != 0 {
			t.Errorf("%s: %+v, want code %s", addr, res, code)
		}
	}
}

// Cancelling the call (Ctrl-C) closes the connection, and the sidecar's
// handler sees its context end (the sidecar then kills the command).
func TestCallCancelledEndsTheServersCall(t *testing.T) {
	serverDone := make(chan error, 1)
	addr := serve(t, "tok", &sidecar{run: func(ctx context.Context, _ *sidecarv1.ExecuteStreamRequest, s *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
		if err := output(s, sidecarv1.Stream_STREAM_STDOUT, "started\n"); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			serverDone <- ctx.Err()
		case <-time.After(10 * time.Second):
			serverDone <- errors.New("the handler's context was not cancelled")
		}
		return ctx.Err()
	}})
	ctx, cancel := context.WithCancel(t.Context())
	res := dialCall(t, ctx, addr, "tok", &Request{Command: []string{"sleep", "60"}}, func(Output) error { cancel(); return nil })
	if CodeOf(res.Err) != CodeCanceled || res.Events != 1 {
		t.Fatalf("result %+v, want canceled after 1 event", res)
	}
	if err := <-serverDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("server side: %v", err)
	}
}

func TestEndCode(t *testing.T) {
	var errOut bytes.Buffer
	cases := []struct {
		end  End
		want int
	}{
		{End{ExitCode: 0}, 0},
		{End{ExitCode: 7}, 7},
		{End{ExitCode: -1, Signal: "SIGKILL"}, 137},
		{End{ExitCode: -1, TimedOut: true, Signal: "SIGKILL"}, 124},
		{End{ExitCode: 300}, 1},
	}
	for _, c := range cases {
		if got := EndCode(&errOut, c.end); got != c.want {
			t.Errorf("EndCode(%+v) = %d, want %d", c.end, got, c.want)
		}
	}
	if !bytes.Contains(errOut.Bytes(), []byte("timed out")) {
		t.Errorf("a timeout said nothing on stderr: %q", errOut.String())
	}
}
