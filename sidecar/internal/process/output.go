package process

import "sync"

// capturedOutput keeps the first limit bytes written to it and remembers
// whether more came, so a process that prints gigabytes costs at most limit.
type capturedOutput struct {
	mu        sync.Mutex
	buf       []byte
	limit     int
	truncated bool
}

func newCapturedOutput(limit int) *capturedOutput {
	return &capturedOutput{limit: limit}
}

func (c *capturedOutput) write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - len(c.buf)
	if room <= 0 {
		if len(p) > 0 {
			c.truncated = true
		}
		return
	}
	if len(p) > room {
		p = p[:room]
		c.truncated = true
	}
	c.buf = append(c.buf, p...)
}

// snapshot returns a copy of the kept bytes and the truncation flag.
func (c *capturedOutput) snapshot() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf), c.truncated
}

// release drops the kept bytes of a process nobody will read any more.
func (c *capturedOutput) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = nil
}

// size is the number of kept bytes.
func (c *capturedOutput) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}
