package tickets

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// ClientConn runs the client side of the SSH handshake with the gateway on nc, as
// ssh.NewClientConn does, but when the server answered in something other than SSH (someone gave
// the web port) the error is a *NotSSHError that says what it met, not "handshake failed: EOF".
// Agents and technicians both reach the gateway through it.
func ClientConn(nc net.Conn, addr string, cfg *ssh.ClientConfig) (ssh.Conn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	rc := &recordingConn{Conn: nc}
	c, chans, reqs, err := ssh.NewClientConn(rc, addr, cfg)
	if err != nil {
		if what := notSSH(rc.first()); what != "" {
			return nil, nil, nil, &NotSSHError{Addr: addr, What: what, Err: err}
		}
		return nil, nil, nil, err
	}
	return c, chans, reqs, nil
}

// NotSSHError says the gateway address answered, but not in SSH.
type NotSSHError struct {
	Addr string
	What string // "an HTTP server", "a TLS (HTTPS) server", …
	Err  error  // the handshake's own error
}

func (e *NotSSHError) Error() string {
	return fmt.Sprintf("%s looks like %s, not the assist gateway's SSH port (%v)", e.Addr, e.What, e.Err)
}

func (e *NotSSHError) Unwrap() error { return e.Err }

// notSSH names what a server that sent first (before its SSH version line, if any) is, or ""
// when it began like an SSH server or sent too little to tell by. x/crypto reads the version
// line a byte at a time, so a handshake that timed out on a busy gateway can leave "SS": that
// is a start of SSH, not evidence of another server, and must not stop an agent for good.
func notSSH(first []byte) string {
	switch {
	case bytes.HasPrefix(first, []byte("SSH-")) || bytes.HasPrefix([]byte("SSH-"), first):
		return ""
	case bytes.HasPrefix(first, []byte("HTTP/")):
		return "an HTTP server"
	case len(first) >= 2 && first[0] == 0x15 && first[1] == 0x03: // a TLS alert record
		return "a TLS (HTTPS) server"
	}
	return "a server that does not speak SSH"
}

// recordingConn keeps the first bytes the server sent.
type recordingConn struct {
	net.Conn
	full atomic.Bool // set once got holds recordBytes: later reads skip the lock
	mu   sync.Mutex
	got  []byte
}

const recordBytes = 16

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.full.Load() {
		return n, err
	}
	c.mu.Lock()
	c.got = append(c.got, p[:min(n, recordBytes-len(c.got))]...)
	c.full.Store(len(c.got) == recordBytes)
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) first() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got
}
