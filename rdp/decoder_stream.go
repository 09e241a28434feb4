package rdp

import (
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// decodeStream follows the agent's zstd stream (protocol version 2) for a Decoder, which is
// handed one stream message at a time. The zstd decoder pulls its input, so it runs on its own
// goroutine, reading frames from the stream and applying them; applyStream hands it one
// message's bytes and waits until it has used them all and applied every frame they complete
// (it then asks for more input), or failed. A batch the agent flushed is therefore applied
// whole by the time its last stream message's Apply returns.
type decodeStream struct {
	in      chan []byte   // compressed bytes for the goroutine
	idle    chan struct{} // the goroutine has used its input and waits for more
	quit    chan struct{} // closed by Close
	done    chan struct{} // closed when the goroutine ended; err says why
	err     error
	waiting bool   // the goroutine said idle and waits on in (applyStream's)
	ends    int    // update-ends applied since the last handoff (the goroutine's, read after idle)
	pending []byte // the goroutine's
}

func (d *Decoder) applyStream(p []byte) (bool, error) {
	var m wire.Stream
	if err := m.DecodePayload(p); err != nil {
		return false, protocolErrorf("decode stream: %v", err)
	}
	if d.stream == nil {
		s := &decodeStream{in: make(chan []byte), idle: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
		go s.run(d.applyFrame)
		d.stream = s
	}
	return d.stream.feed(m.Data)
}

// feed hands the goroutine one stream message's bytes and waits until it has used them all,
// applying every frame they complete; it reports whether one of them ended an update.
func (s *decodeStream) feed(data []byte) (bool, error) {
	if !s.waiting {
		select {
		case <-s.idle:
		case <-s.done:
			return false, s.err
		}
	}
	s.waiting = false
	s.ends = 0
	select {
	case s.in <- data:
	case <-s.done:
		return false, s.err
	}
	select {
	case <-s.idle:
		s.waiting = true
	case <-s.done:
		return false, s.err
	}
	return s.ends > 0, nil
}

func (s *decodeStream) run(apply func(wire.Type, []byte) (bool, error)) {
	defer close(s.done)
	zr, err := zstd.NewReader(s, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(streamWindow), zstd.WithDecoderLowmem(true))
	if err != nil {
		s.err = err
		return
	}
	defer zr.Close()
	var buf []byte
	for {
		t, p, nb, err := wire.ReadFrame(zr, buf)
		buf = nb
		if err != nil {
			s.err = protocolErrorf("framebuffer stream: %v", err)
			return
		}
		switch t {
		case wire.TStream, wire.THello:
			s.err = protocolErrorf("a %s message inside the framebuffer stream", t)
			return
		case wire.TClose:
			continue
		}
		end, err := apply(t, p)
		if err != nil {
			s.err = err
			return
		}
		if end {
			s.ends++
		}
	}
}

// Read gives the zstd decoder the bytes of the next stream message, saying idle first.
func (s *decodeStream) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		select {
		case s.idle <- struct{}{}:
		case <-s.quit:
			return 0, io.EOF
		}
		select {
		case s.pending = <-s.in:
		case <-s.quit:
			return 0, io.EOF
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

func (s *decodeStream) close() {
	close(s.quit)
	<-s.done
}
