package commands

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// spinner shows "message ⠋" on a terminal and nothing elsewhere, so
// scripts and agents reading the output never see progress noise.
type spinner struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func startSpinner(w io.Writer, message string) *spinner {
	s := &spinner{stop: make(chan struct{})}
	if !isTerminal(w) {
		return s
	}
	frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		started := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(w, "\r%s %c %.1fs", message, frames[i%len(frames)], time.Since(started).Seconds())
			select {
			case <-s.stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop clears the spinner's line.
func (s *spinner) Stop() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}
