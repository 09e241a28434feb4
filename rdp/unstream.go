package rdp

import (
	"encoding/binary"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Unstreamer opens the agent's zstd stream (protocol version 2) on the way to a recording: Feed
// passes every other message on as it is, and replaces a stream message with the messages it
// completes. A recording then keeps the agent's messages themselves, which a player can start
// reading at any key frame, rather than a stream that reads only from its start; the recording's
// own compression takes the stream's place.
//
// An Unstreamer is not safe for concurrent use.
type Unstreamer struct {
	s    *decodeStream
	emit func(msg []byte)
	buf  []byte
}

// Feed hands on msg, a whole message of the agent's side of a framebuffer channel, or the
// messages inside it. The slices emit gets are valid only during the call.
func (u *Unstreamer) Feed(msg []byte, emit func(msg []byte)) error {
	t, p, err := splitMessage(msg)
	if err != nil {
		return err
	}
	if t != wire.TStream {
		emit(msg)
		return nil
	}
	var m wire.Stream
	if err := m.DecodePayload(p); err != nil {
		return protocolErrorf("decode stream: %v", err)
	}
	if u.s == nil {
		u.s = &decodeStream{in: make(chan []byte), idle: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
		go u.s.run(u.frame)
	}
	u.emit = emit
	_, err = u.s.feed(m.Data)
	return err
}

// frame re-frames one message of the stream for emit (on the stream's goroutine, while Feed waits).
func (u *Unstreamer) frame(t wire.Type, p []byte) (bool, error) {
	u.buf = binary.BigEndian.AppendUint32(u.buf[:0], uint32(len(p)+1))
	u.buf = append(append(u.buf, byte(t)), p...)
	u.emit(u.buf)
	return t == wire.TUpdateEnd, nil
}

// Close stops the stream's goroutine.
func (u *Unstreamer) Close() {
	if u.s != nil {
		u.s.close()
	}
}
