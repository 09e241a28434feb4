package agent

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// heardConn notes when the gateway was last heard from: anything read counts, the answer to a
// keepalive as much as the gateway's own question or a session's data.
type heardConn struct {
	net.Conn
	start time.Time
	last  atomic.Int64 // nanoseconds since start (monotonic)
}

func newHeardConn(nc net.Conn) *heardConn { return &heardConn{Conn: nc, start: time.Now()} }

func (c *heardConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last.Store(int64(time.Since(c.start)))
	}
	return n, err
}

// silent is how long the gateway has said nothing.
func (c *heardConn) silent() time.Duration {
	return time.Since(c.start) - time.Duration(c.last.Load())
}

// keepalive closes the connection when the gateway stops answering, so Run reconnects. The
// gateway asks an agent it has not heard from for 8 s whether it is there (sshd/liveness.go), so
// on a live link the agent hears from it before its own KeepaliveSilence runs out and never
// asks: the 20,000 agents of a gateway cost it answers to its own questions, sent in batches,
// rather than a wake-up for each agent's clock. Should the gateway not ask (another build, or
// one too busy), the agent asks.
func (a *Agent) keepalive(ctx context.Context, conn ssh.Conn, heard *heardConn) {
	t := time.NewTimer(a.cfg.KeepaliveSilence)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if quiet := heard.silent(); quiet < a.cfg.KeepaliveSilence {
			t.Reset(a.cfg.KeepaliveSilence - quiet)
			continue
		}
		answered := make(chan struct{})
		go func() {
			conn.SendRequest("keepalive@openssh.com", true, nil)
			close(answered)
		}()
		select {
		case <-answered:
		case <-ctx.Done():
			return
		case <-time.After(a.cfg.KeepaliveTimeout):
			a.log.Warn("gateway stopped answering keepalives")
			conn.Close()
			return
		}
		t.Reset(a.cfg.KeepaliveSilence)
	}
}
