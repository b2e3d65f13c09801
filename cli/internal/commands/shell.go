package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/arl-infra/arl/cli/internal/sandbox"
	"github.com/arl-infra/arl/cli/internal/sidecarrpc"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// defaultShell starts bash when the image has it, else sh.
var defaultShell = []string{"sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"}

func newShellCmd(o *Options) *cobra.Command {
	var cwd string
	cmd := &cobra.Command{
		Use:   "shell SANDBOX [-- COMMAND...]",
		Short: "Open an interactive shell (a PTY, resized with your terminal) in a sandbox",
		Example: `  kubectl arl shell my-workspace
  kubectl arl shell my-workspace -- python`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			command := defaultShell
			if len(args) > 1 {
				command = args[1:]
			}
			conn, err := o.Dial(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer conn.Close()
			code, err := interact(cmd.Context(), o, conn, command, cwd)
			if err != nil {
				return sandbox.Describe(args[0], err)
			}
			return &ExitError{Code: code}
		},
	}
	cmd.Flags().StringVar(&cwd, "cwd", "", "working directory (default /workspace)")
	return cmd
}

// interact runs command on a PTY over the Interact stream: stdin in raw
// mode goes up, terminal output comes down, SIGWINCH sends the new size.
func interact(ctx context.Context, o *Options, conn *sandbox.Conn, command []string, cwd string) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream := conn.Client.Interact(ctx)
	defer func() { _ = stream.CloseResponse() }() // the result is the exit code (or the error) returned below

	inFile, inIsFile := o.IO.In.(*os.File)
	tty := inIsFile && term.IsTerminal(int(inFile.Fd()))
	size := &sidecarv1.WindowSize{Rows: 24, Cols: 80}
	if tty {
		if cols, rows, err := term.GetSize(int(inFile.Fd())); err == nil {
			size = &sidecarv1.WindowSize{Rows: uint32(rows), Cols: uint32(cols)}
		}
	}
	termName := os.Getenv("TERM")
	if termName == "" {
		termName = "xterm"
	}
	start := &sidecarv1.InteractStart{Command: command, WorkingDir: cwd, Pty: true, Size: size, Env: map[string]string{"TERM": termName}}
	if err := stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Start{Start: start}}); err != nil {
		return 0, fmt.Errorf("starting the shell: %w", err)
	}
	if tty {
		old, err := term.MakeRaw(int(inFile.Fd()))
		if err != nil {
			return 0, fmt.Errorf("putting the terminal in raw mode: %w", err)
		}
		defer func() { _ = term.Restore(int(inFile.Fd()), old) }()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-winch:
					cols, rows, err := term.GetSize(int(inFile.Fd()))
					if err != nil {
						continue
					}
					_ = stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Resize{
						Resize: &sidecarv1.WindowSize{Rows: uint32(rows), Cols: uint32(cols)}}})
				}
			}
		}()
	}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := o.IO.In.Read(buf)
			if n > 0 {
				data := append([]byte(nil), buf[:n]...)
				if stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Stdin{Stdin: data}}) != nil {
					return
				}
			}
			if err != nil {
				_ = stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Eof{Eof: true}})
				return
			}
		}
	}()
	for {
		msg, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			return 0, errNoEnd
		}
		if err != nil {
			return 0, fmt.Errorf("shell stream: %w", err)
		}
		switch ev := msg.Event.(type) {
		case *sidecarv1.InteractResponse_Output:
			w := o.IO.Out
			if ev.Output.Stream == sidecarv1.Stream_STREAM_STDERR {
				w = o.IO.ErrOut
			}
			if _, err := w.Write(ev.Output.Data); err != nil {
				return 0, fmt.Errorf("writing output: %w", err)
			}
		case *sidecarv1.InteractResponse_End:
			_ = stream.CloseRequest()
			return sidecarrpc.EndCode(o.IO.ErrOut, ev.End), nil
		}
	}
}

var errNoEnd = errors.New("the stream ended without the process's exit")
