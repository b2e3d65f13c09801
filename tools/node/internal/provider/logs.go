package provider

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node/api"
)

// Log files hold one line per output line, as CRI runtimes write them:
// "<RFC3339Nano time> <stdout|stderr> <F|P> <text>".

// logWriter turns a container run's stdout and stderr into one log file.
type logWriter struct {
	mu   sync.Mutex
	file *os.File
	wg   sync.WaitGroup
	done chan struct{}
}

// newLogWriter opens path and returns the pipe ends to give the process.
func newLogWriter(path string) (lw *logWriter, stdout, stderr *os.File, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("create log dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open log %s: %w", path, err)
	}
	lw = &logWriter{file: f, done: make(chan struct{})}
	outR, outW, err := os.Pipe()
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		f.Close()
		outR.Close()
		outW.Close()
		return nil, nil, nil, fmt.Errorf("stderr pipe: %w", err)
	}
	lw.wg.Add(2)
	go lw.copy(outR, "stdout")
	go lw.copy(errR, "stderr")
	go func() { lw.wg.Wait(); f.Close(); close(lw.done) }()
	return lw, outW, errW, nil
}

func (lw *logWriter) copy(r *os.File, stream string) {
	defer lw.wg.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			tag := "F"
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			} else if err == bufio.ErrBufferFull {
				tag = "P"
			}
			lw.mu.Lock()
			fmt.Fprintf(lw.file, "%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), stream, tag, line)
			lw.mu.Unlock()
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// Done is closed once both streams reached EOF (every holder of the pipes
// exited) and the file is closed.
func (lw *logWriter) Done() <-chan struct{} { return lw.done }

// logLine is one parsed log file line.
type logLine struct {
	Time    time.Time
	Partial bool
	Text    []byte
}

func parseLogLine(line []byte) (logLine, bool) {
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) < 4 {
		return logLine{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(parts[0]))
	if err != nil {
		return logLine{}, false
	}
	return logLine{Time: ts, Partial: string(parts[2]) == "P", Text: parts[3]}, true
}

// formatLogs renders parsed lines for the kubelet API options (all but
// follow): since, tail, timestamps, limitBytes.
func formatLogs(lines []logLine, opts api.ContainerLogOpts, now time.Time) []byte {
	var since time.Time
	if opts.SinceSeconds > 0 {
		since = now.Add(-time.Duration(opts.SinceSeconds) * time.Second)
	}
	if !opts.SinceTime.IsZero() && opts.SinceTime.After(since) {
		since = opts.SinceTime
	}
	kept := lines[:0:0]
	for _, l := range lines {
		if !since.IsZero() && l.Time.Before(since) {
			continue
		}
		kept = append(kept, l)
	}
	if opts.Tail > 0 && len(kept) > opts.Tail {
		kept = kept[len(kept)-opts.Tail:]
	}
	var b bytes.Buffer
	for _, l := range kept {
		b.Write(renderLine(l, opts.Timestamps))
	}
	out := b.Bytes()
	if opts.LimitBytes > 0 && len(out) > opts.LimitBytes {
		out = out[:opts.LimitBytes]
	}
	return out
}

func renderLine(l logLine, timestamps bool) []byte {
	var b bytes.Buffer
	if timestamps {
		b.WriteString(l.Time.Format(time.RFC3339Nano))
		b.WriteByte(' ')
	}
	b.Write(l.Text)
	if !l.Partial {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func readLogFile(path string) ([]logLine, int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	return parseLogData(data), int64(len(data)), nil
}

func parseLogData(data []byte) []logLine {
	var lines []logLine
	for _, raw := range bytes.Split(data, []byte("\n")) {
		if l, ok := parseLogLine(raw); ok {
			lines = append(lines, l)
		}
	}
	return lines
}

// streamLogs writes the file's lines per opts and, when following, keeps
// writing new lines until running reports false or ctx ends.
func streamLogs(ctx context.Context, path string, opts api.ContainerLogOpts, running func() bool, w io.Writer) error {
	lines, offset, err := readLogFile(path)
	if err != nil {
		return fmt.Errorf("read log %s: %w", path, err)
	}
	if _, err := w.Write(formatLogs(lines, opts, time.Now())); err != nil || !opts.Follow {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open log %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek log: %w", err)
	}
	br := bufio.NewReader(f)
	var pending []byte
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		for {
			chunk, err := br.ReadBytes('\n')
			pending = append(pending, chunk...)
			if err != nil {
				break
			}
			if l, ok := parseLogLine(bytes.TrimSuffix(pending, []byte("\n"))); ok {
				if _, err := w.Write(renderLine(l, opts.Timestamps)); err != nil {
					return err
				}
			}
			pending = pending[:0]
		}
		if !running() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// logPath is where run number run of a container logs.
func logPath(podDir, container string, run int32) string {
	return filepath.Join(podDir, "logs", container, fmt.Sprintf("%d.log", run))
}
