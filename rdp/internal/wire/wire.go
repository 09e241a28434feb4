// Package wire is the byte layout of assist's desktop protocol: message framing, the message
// types of both channels and their hand-written codec. It knows nothing about pixels or sessions;
// package rdp gives the messages their meaning. docs/rdp.md describes the same layout for readers
// who write another implementation.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version this code speaks. A peer announces its own in Hello and both
// sides speak the lower of the two; MinVersion is the oldest still understood.
const (
	Version    = 3 // 2: the framebuffer stream (CapStream); 3: acknowledgements (CapAck), JPEG (CapJPEG)
	MinVersion = 1
)

// Limits. Every length on the wire is checked against these before anything is allocated.
const (
	// MaxMessage bounds one frame's length field (type byte plus payload).
	MaxMessage = 1<<20 + 64
	// MaxPixelData bounds the pixel bytes a raw or zstd rectangle carries once decoded
	// (w×h×3 for RGB24), so a small compressed message cannot expand without bound.
	MaxPixelData = 1 << 20
	// MaxScreen bounds the width and height of the virtual screen and of any rectangle.
	MaxScreen = 16384
	// MaxScreenPixels bounds the virtual screen's area (a viewer allocates 4 bytes a pixel):
	// three 8K monitors side by side fit; a 16384×16384 screen, 1 GiB of image, does not.
	MaxScreenPixels = 100 << 20
	// MaxCoord bounds the absolute value of a coordinate (monitors may sit left of or above
	// the primary one on some systems).
	MaxCoord = 1 << 15
	// MaxMonitors bounds the monitors in one layout.
	MaxMonitors = 16
	// MaxName bounds a monitor name in bytes.
	MaxName = 128
	// MaxCursor bounds the cursor image's width and height.
	MaxCursor = 256
	// MaxText bounds one Text message in bytes.
	MaxText = 64 << 10
	// MaxClipboard bounds clipboard text in bytes.
	MaxClipboard = 1 << 20
	// MaxReason bounds a Close message's reason in bytes.
	MaxReason = 1024
)

// Type is the first byte of a frame's body.
type Type uint8

// Message types. Numbers are part of the protocol and never reused.
const (
	// Both channels, both directions.
	THello Type = 1
	TClose Type = 2

	// Framebuffer channel, agent → viewer.
	TLayout      Type = 16
	TRect        Type = 17
	TUpdateEnd   Type = 18
	TCursorPos   Type = 19
	TCursorShape Type = 20
	// TStream carries the next bytes of the channel's zstd stream (version 2, CapStream).
	TStream Type = 21

	// Framebuffer channel, viewer → agent.
	TUpdateRequest Type = 24
	// TUpdateAck tells the agent an update has arrived (version 3, CapAck).
	TUpdateAck Type = 25
	// TQuality sets the lossy encoding's mode (version 3, CapJPEG).
	TQuality Type = 26

	// Input channel, viewer → agent.
	TKey              Type = 32
	TPointer          Type = 33
	TScroll           Type = 34
	TText             Type = 35
	TClipboardRequest Type = 36

	// Input channel, both directions.
	TClipboard Type = 40
)

var typeNames = map[Type]string{
	THello: "hello", TClose: "close", TLayout: "layout", TRect: "rect", TUpdateEnd: "update-end",
	TCursorPos: "cursor-pos", TCursorShape: "cursor-shape", TStream: "stream", TUpdateRequest: "update-request", TUpdateAck: "update-ack", TQuality: "quality",
	TKey: "key", TPointer: "pointer", TScroll: "scroll", TText: "text",
	TClipboardRequest: "clipboard-request", TClipboard: "clipboard",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// ErrTooLarge is wrapped by ReadFrame when a frame's length exceeds MaxMessage.
var ErrTooLarge = errors.New("message too large")

// Message is one decoded message.
type Message interface {
	Type() Type
	// AppendPayload appends the payload (the body after the type byte).
	AppendPayload(b []byte) []byte
	// DecodePayload parses a payload, checking every limit. Byte slices in the result may
	// alias p.
	DecodePayload(p []byte) error
}

// Append appends one framed message to b: a 4-byte big-endian length N, then N bytes made of the
// type byte and the payload.
func Append(b []byte, m Message) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, byte(m.Type()))
	b = m.AppendPayload(b)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// Refit sets the length of the frame that frame starts with (as Append wrote it) to all of
// frame: for a message whose last field's bytes (a raw rectangle's pixels) the caller appended
// after Append, written in place rather than copied.
func Refit(frame []byte) {
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
}

// ReadFrame reads one frame into buf (grown if needed, never beyond MaxMessage) and returns its
// type and payload, which aliases buf. The length is checked before any allocation.
func ReadFrame(r io.Reader, buf []byte) (Type, []byte, []byte, error) {
	t, n, err := ReadHead(r)
	if err != nil {
		return 0, nil, buf, err
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	p := buf[:n]
	if err := ReadPayload(r, p); err != nil {
		return 0, nil, buf, err
	}
	return t, p, buf, nil
}

// ReadHead reads a frame's length and type and returns the type and the length of the payload
// that follows, checked against MaxMessage; ReadPayload reads the payload, into memory of the
// caller's choosing.
func ReadHead(r io.Reader) (Type, int, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return 0, 0, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n == 0 {
		return 0, 0, errors.New("empty message")
	}
	if n > MaxMessage {
		return 0, 0, fmt.Errorf("length %d over the limit of %d: %w", n, MaxMessage, ErrTooLarge)
	}
	if err := ReadPayload(r, hdr[4:]); err != nil {
		return 0, 0, err
	}
	return Type(hdr[4]), int(n) - 1, nil
}

// ReadPayload reads len(p) bytes of a frame whose head ReadHead read: the frame ending before
// them is io.ErrUnexpectedEOF.
func ReadPayload(r io.Reader, p []byte) error {
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// New returns an empty message of type t, or nil if t is unknown.
func New(t Type) Message {
	switch t {
	case THello:
		return new(Hello)
	case TClose:
		return new(Close)
	case TLayout:
		return new(Layout)
	case TRect:
		return new(Rect)
	case TUpdateEnd:
		return new(UpdateEnd)
	case TCursorPos:
		return new(CursorPos)
	case TCursorShape:
		return new(CursorShape)
	case TStream:
		return new(Stream)
	case TUpdateRequest:
		return new(UpdateRequest)
	case TUpdateAck:
		return new(UpdateAck)
	case TQuality:
		return new(Quality)
	case TKey:
		return new(Key)
	case TPointer:
		return new(Pointer)
	case TScroll:
		return new(Scroll)
	case TText:
		return new(Text)
	case TClipboardRequest:
		return new(ClipboardRequest)
	case TClipboard:
		return new(Clipboard)
	}
	return nil
}

// Decode parses a payload of type t into a new message.
func Decode(t Type, p []byte) (Message, error) {
	m := New(t)
	if m == nil {
		return nil, fmt.Errorf("unknown message type %d", uint8(t))
	}
	if err := m.DecodePayload(p); err != nil {
		return nil, fmt.Errorf("decode %s: %w", t, err)
	}
	return m, nil
}
