package rdp

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// ErrViewOnly is returned (wrapped) when the agent refuses input because the person allowed
// viewing only.
var ErrViewOnly = errors.New("the session is view only")

// RemoteError is the reason the other side gave when it closed a channel.
type RemoteError struct {
	Code   uint8 // 0 normal, 1 view only, 2 protocol error, 3 internal error
	Reason string
}

func (e *RemoteError) Error() string {
	if e.Reason == "" {
		return "rdp: the peer closed the channel"
	}
	return "rdp: the peer closed the channel: " + e.Reason
}

// Is makes a view-only close match ErrViewOnly.
func (e *RemoteError) Is(target error) bool {
	return target == ErrViewOnly && e.Code == wire.CloseViewOnly
}

// errPeerClosed ends a serve loop without error: the viewer went away.
var errPeerClosed = errors.New("rdp: the viewer closed the channel")

// protocolError is a violation by the peer; it is told the reason before the channel closes.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "rdp: " + e.msg }

func protocolErrorf(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// conn frames messages over one channel. Reads happen on one goroutine; writes are serialised,
// each message batch going out in one Write so that an SSH channel sends it in few packets.
type conn struct {
	rw   io.ReadWriter
	rbuf []byte
	wmu  sync.Mutex
	wbuf []byte
}

func newConn(rw io.ReadWriter) *conn { return &conn{rw: rw} }

// read returns the next message. Messages alias an internal buffer until the next read.
func (c *conn) read() (wire.Message, error) {
	t, p, buf, err := wire.ReadFrame(c.rw, c.rbuf)
	c.rbuf = buf
	if err != nil {
		return nil, err
	}
	m, err := wire.Decode(t, p)
	if err != nil {
		return nil, &protocolError{msg: err.Error()}
	}
	return m, nil
}

// readPayload returns the next frame undecoded, for the framebuffer client's hot path.
func (c *conn) readFrame() (wire.Type, []byte, error) {
	t, p, buf, err := wire.ReadFrame(c.rw, c.rbuf)
	c.rbuf = buf
	return t, p, err
}

func (c *conn) write(msgs ...wire.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = c.wbuf[:0]
	for _, m := range msgs {
		c.wbuf = wire.Append(c.wbuf, m)
	}
	_, err := c.rw.Write(c.wbuf)
	return err
}

// writeRaw sends already framed messages.
func (c *conn) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.rw.Write(b)
	return err
}

// sendClose tells the peer why the channel is closing. A peer that does not read gets two
// seconds before the channel is closed under the write.
func (c *conn) sendClose(code uint8, reason string) {
	t := time.AfterFunc(2*time.Second, c.close)
	defer t.Stop()
	if len(reason) > wire.MaxReason {
		reason = reason[:wire.MaxReason]
	}
	_ = c.write(&wire.Close{Code: code, Reason: reason})
}

// close ends both directions if the channel can be closed (an SSH channel, a net.Conn).
func (c *conn) close() {
	if cw, ok := c.rw.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	if cl, ok := c.rw.(io.Closer); ok {
		_ = cl.Close()
	}
}

// handshake exchanges Hello messages. The viewer speaks first so that even an unbuffered pipe
// cannot deadlock; the agent answers.
func (c *conn) handshake(kind uint8, caps uint64, first bool) (wire.Hello, error) {
	ours := &wire.Hello{Kind: kind, Version: wire.Version, Caps: caps}
	if first {
		if err := c.write(ours); err != nil {
			return wire.Hello{}, fmt.Errorf("rdp: send hello: %w", err)
		}
	}
	m, err := c.read()
	if err != nil {
		return wire.Hello{}, fmt.Errorf("rdp: read hello: %w", err)
	}
	peer, ok := m.(*wire.Hello)
	if !ok {
		if cl, isClose := m.(*wire.Close); isClose {
			return wire.Hello{}, &RemoteError{Code: cl.Code, Reason: cl.Reason}
		}
		return wire.Hello{}, protocolErrorf("expected hello, got %s", m.Type())
	}
	if peer.Kind != kind {
		return wire.Hello{}, protocolErrorf("peer speaks the %s protocol on the %s channel", kindName(peer.Kind), kindName(kind))
	}
	if peer.Version < wire.MinVersion {
		return wire.Hello{}, protocolErrorf("peer speaks protocol version %d, this side needs %d or later", peer.Version, wire.MinVersion)
	}
	if !first {
		if err := c.write(ours); err != nil {
			return wire.Hello{}, fmt.Errorf("rdp: send hello: %w", err)
		}
	}
	return *peer, nil
}

func kindName(k uint8) string {
	switch k {
	case wire.KindFramebuffer:
		return "framebuffer"
	case wire.KindInput:
		return "input"
	}
	return fmt.Sprintf("unknown (%d)", k)
}
