package server

import (
	"context"
	"net"
	"sync"
)

// DefaultMaxUnauthenticatedConns caps the connections that have not yet
// carried an authenticated request.
const DefaultMaxUnauthenticatedConns = 64

// limitListener admits at most max connections that have not yet carried
// an authenticated request; a connection beyond the cap is closed at once.
// Health probes hold a slot only while their (short) connection lives.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, slots: l.slots}, nil
		default:
			c.Close() // too many unauthenticated connections
		}
	}
}

// limitedConn gives its slot back once authenticated or closed.
type limitedConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

func (c *limitedConn) release() { c.once.Do(func() { <-c.slots }) }

func (c *limitedConn) Close() error {
	c.release()
	return c.Conn.Close()
}

type connKey struct{}

// withConn is the server's ConnContext: it lets handlers find the
// connection a request came on.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// markAuthenticated frees the connection's unauthenticated slot.
func markAuthenticated(ctx context.Context) {
	if lc, ok := ctx.Value(connKey{}).(*limitedConn); ok {
		lc.release()
	}
}
