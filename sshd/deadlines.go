package sshd

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// handshakeConn bounds how long an unauthenticated peer may keep the gateway waiting: the
// version line must arrive within VersionTimeout of the accept, every later read of the
// handshake within HandshakeStepTimeout, and the whole handshake within HandshakeTimeout.
// x/crypto reads the version byte by byte and then runs a read loop, so every wait on the
// peer passes through Read here. Once the connection has authenticated the deadlines are
// lifted and Read only notes when the peer was last heard from (for keepalives).
type handshakeConn struct {
	net.Conn
	now      func() time.Time
	step     time.Duration
	version  time.Time // deadline for the version line
	overall  time.Time // deadline for the whole handshake
	authed   atomic.Bool
	lastRead atomic.Int64 // unix nanoseconds

	mu        sync.Mutex // orders a pre-auth Read's deadline against lift
	versioned bool       // the version line ('\n') has arrived; guarded by mu
}

// Deadlines on a socket are wall-clock time, whatever clock Config.Now is.
func newHandshakeConn(nc net.Conn, cfg *Config) *handshakeConn {
	now := time.Now()
	c := &handshakeConn{
		Conn: nc, now: time.Now, step: cfg.HandshakeStepTimeout,
		version: now.Add(cfg.VersionTimeout), overall: now.Add(cfg.HandshakeTimeout),
	}
	c.lastRead.Store(now.UnixNano())
	nc.SetWriteDeadline(c.overall)
	return c
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	if !c.authed.Load() {
		c.mu.Lock()
		if !c.authed.Load() {
			c.Conn.SetReadDeadline(c.nextDeadline())
		}
		c.mu.Unlock()
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.lastRead.Store(c.now().UnixNano())
		if !c.authed.Load() {
			c.mu.Lock()
			c.versioned = c.versioned || bytes.IndexByte(p[:n], '\n') >= 0
			c.mu.Unlock()
		}
	}
	return n, err
}

// nextDeadline is the earliest of the deadlines that apply to the next read; c.mu is held.
func (c *handshakeConn) nextDeadline() time.Time {
	d := c.overall
	if !c.versioned && c.version.Before(d) {
		d = c.version
	}
	if step := c.now().Add(c.step); step.Before(d) {
		d = step
	}
	return d
}

// gotVersion reports whether the peer sent its version line.
func (c *handshakeConn) gotVersion() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versioned
}

// lift ends the handshake's deadlines; a read in progress loses its deadline too.
func (c *handshakeConn) lift() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.authed.Store(true)
	c.Conn.SetDeadline(time.Time{})
}
