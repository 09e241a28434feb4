package rdp

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// The framebuffer stream (protocol version 2, CapStream). Compressing each rectangle on its own
// forgets everything between them: anti-aliased text compressed so costs about twice what one
// zstd stream for the channel costs, since the same glyph rows, window frames and moved windows
// recur across tiles and updates (measured on the bench's desktop scenes: 176 KB an update per
// rectangle, 90 KB as a stream with an 8 MiB window; a larger window gained 2%, a smaller one
// of 1 MiB lost 27%; zstd's default level instead of its fastest took 15% more off end to end at
// no cost in speed). So after its hello the agent writes everything through one zstd encoder
// and flushes it at the end of each batch of messages (an update, a close), which ends a zstd
// block, so the viewer can decode the whole batch as soon as it has arrived.

// streamWindow is the zstd window of the framebuffer stream: the history both sides keep.
const streamWindow = 8 << 20

// streamOut cuts what the zstd encoder writes into Stream frames, collected until the conn
// sends them in one write.
type streamOut struct {
	buf []byte
	msg wire.Stream // reused: a message handed to wire.Append as a pointer would escape
}

func (s *streamOut) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), wire.MaxStreamChunk)
		s.msg.Data = p[:k]
		s.buf = wire.Append(s.buf, &s.msg)
		s.msg.Data = nil
		p = p[k:]
	}
	return n, nil
}

// streamIn reads the Stream frames of a channel and yields their bytes: what the zstd decoder
// reads from.
type streamIn struct {
	r       io.Reader
	buf     []byte
	pending []byte
}

func (s *streamIn) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		t, payload, buf, err := wire.ReadFrame(s.r, s.buf)
		s.buf = buf
		if err != nil {
			return 0, err
		}
		var m wire.Stream
		if t != wire.TStream {
			return 0, protocolErrorf("%s message outside the framebuffer stream", t)
		}
		if err := m.DecodePayload(payload); err != nil {
			return 0, protocolErrorf("%v", err)
		}
		s.pending = m.Data
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// startWriteStream makes everything the conn writes from now on go through one zstd stream, at
// zstd's default level.
func (c *conn) startWriteStream() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.sout = &streamOut{}
	return c.newStreamEncoder(zstd.SpeedDefault)
}

// newStreamEncoder makes the write stream's encoder at level. The caller holds wmu.
func (c *conn) newStreamEncoder(level zstd.EncoderLevel) error {
	zw, err := zstd.NewWriter(c.sout, zstd.WithEncoderLevel(level), zstd.WithWindowSize(streamWindow),
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	if err != nil {
		return fmt.Errorf("rdp: zstd stream: %w", err)
	}
	c.zw, c.zlevel = zw, level
	return nil
}

// dropWriteStream lets go of the write stream's encoder and buffers once nothing more will be
// written.
func (c *conn) dropWriteStream() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.zw, c.sout, c.wbuf = nil, nil, nil
}

// startReadStream makes the conn read its frames from the peer's zstd stream from now on.
func (c *conn) startReadStream() error {
	zr, err := zstd.NewReader(&streamIn{r: c.in}, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(streamWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return fmt.Errorf("rdp: zstd stream: %w", err)
	}
	c.zr, c.r = zr, zr
	return nil
}

// writePart compresses b, framed messages, into the write stream, to go on the channel with
// the rest of the batch at the next send: fbServer.answer has its encoder hand an update on
// in parts as they are ready, so that compressing it overlaps encoding it. The stream must
// have started. An error waits for that send.
func (c *conn) writePart(b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.parted += len(b)
	c.zin += int64(len(b))
	if _, err := c.zw.Write(b); err != nil && c.partErr == nil {
		c.partErr = err
	}
}

// partsPending reports whether writePart took bytes that no send has sent yet.
func (c *conn) partsPending() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.parted > 0
}

// send writes framed messages, through the stream once it started. The caller holds wmu.
func (c *conn) send(b []byte) error { return c.sendCounted(b, nil) }

// sendCounted is send telling sized, before the write, how many bytes go on the channel. The
// caller holds wmu.
func (c *conn) sendCounted(b []byte, sized func(n int)) error {
	out := b
	if c.zw != nil {
		c.parted = 0
		if c.partErr != nil {
			return c.partErr
		}
		c.zin += int64(len(b))
		if _, err := c.zw.Write(b); err != nil {
			return err
		}
		if err := c.zw.Flush(); err != nil {
			return err
		}
		out = c.sout.buf
		defer func() { c.sout.buf = c.sout.buf[:0] }()
	}
	if sized != nil {
		sized(len(out))
	}
	n, err := c.rw.Write(out)
	c.sent.Add(int64(n))
	return err
}

// restartStream ends the stream's zstd frame and starts the next one at level, so that what the
// conn writes next (a key batch) can be decoded without anything before it. The end of the old
// frame goes out at once, in stream messages of its own, so the new frame starts a stream
// message.
func (c *conn) restartStream(level zstd.EncoderLevel) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.zw.Close(); err != nil {
		return err
	}
	n, err := c.rw.Write(c.sout.buf)
	c.sent.Add(int64(n))
	c.sout.buf = c.sout.buf[:0]
	if err != nil {
		return err
	}
	if level != c.zlevel {
		return c.newStreamEncoder(level)
	}
	c.zw.Reset(c.sout)
	return nil
}

// streamed reports whether the peers agreed on the framebuffer stream.
func streamed(peer wire.Hello, ours uint64) bool {
	return peer.Version >= 2 && peer.Caps&ours&wire.CapStream != 0
}
