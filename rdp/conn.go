package rdp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

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
	in   *bufio.Reader // rw's bytes
	r    io.Reader     // what frames are read from: in, or the peer's zstd stream
	rbuf []byte
	wmu  sync.Mutex
	wbuf []byte

	zw      *zstd.Encoder // set once this side writes a stream (the agent's framebuffer channel)
	zlevel  zstd.EncoderLevel
	sout    *streamOut
	parted  int           // bytes writePart compressed for the next send
	partErr error         // what writePart failed with, for that send
	zin     int64         // bytes of messages the stream compressed, in all
	zr      *zstd.Decoder // set once this side reads one

	nread   atomic.Int64 // bytes read from rw: what crossed the channel
	arrival arrival
	sent    atomic.Int64 // bytes written to rw
}

func newConn(rw io.ReadWriter) *conn {
	c := &conn{}
	c.rw = countingRW{rw, &c.nread, &c.arrival}
	// Reads ask the channel for what it has, not for a frame header's 4 bytes, so the first read
	// of an update tells how much of it had come (arrival.spread).
	c.in = bufio.NewReaderSize(c.rw, 64<<10)
	c.r = c.in
	return c
}

// arrival notes when bytes first came from the channel after it was armed, and how many: the
// viewer arms it after each update, so it tells when the next one began to arrive, compressed
// or not.
type arrival struct {
	armed atomic.Bool
	at    atomic.Int64 // Unix nanoseconds
	first atomic.Int64 // bytes of that first read
	base  atomic.Int64 // bytes read before it
}

func (a *arrival) arm() { a.armed.Store(true) }

// spread is how long the bytes read since arm took to arrive, nread being the channel's count
// now: from the first read to now, stretched by the share of the bytes that first read brought
// (an SSH channel hands on whole packets of up to 32 KiB, so the first read comes only once a
// packet has crossed). 0 when one read brought everything.
func (a *arrival) spread(now time.Time, nread int64) time.Duration {
	if a.armed.Load() {
		return 0
	}
	total, first := nread-a.base.Load(), a.first.Load()
	if total <= first {
		return 0
	}
	d := now.Sub(time.Unix(0, a.at.Load()))
	return time.Duration(float64(d) * float64(total) / float64(total-first))
}

// countingRW counts what is read from a channel and notes arrivals. It keeps the channel's
// Close and CloseWrite.
type countingRW struct {
	io.ReadWriter
	n       *atomic.Int64
	arrival *arrival
}

func (c countingRW) Read(p []byte) (int, error) {
	n, err := c.ReadWriter.Read(p)
	after := c.n.Add(int64(n))
	if n > 0 && c.arrival.armed.Load() {
		c.arrival.at.Store(time.Now().UnixNano())
		c.arrival.first.Store(int64(n))
		c.arrival.base.Store(after - int64(n))
		c.arrival.armed.Store(false)
	}
	return n, err
}

func (c countingRW) Close() error {
	if cl, ok := c.ReadWriter.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

func (c countingRW) CloseWrite() error {
	if cw, ok := c.ReadWriter.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// read returns the next message. Messages alias an internal buffer until the next read.
func (c *conn) read() (wire.Message, error) {
	t, p, buf, err := wire.ReadFrame(c.r, c.rbuf)
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
	t, p, buf, err := wire.ReadFrame(c.r, c.rbuf)
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
	return c.send(c.wbuf)
}

// writeRaw sends already framed messages.
func (c *conn) writeRaw(b []byte) error { return c.writeCounted(b, nil) }

// writeCounted is writeRaw telling sized how many bytes go on the channel, before they do.
func (c *conn) writeCounted(b []byte, sized func(n int)) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.sendCounted(b, sized)
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
