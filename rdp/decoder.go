package rdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Decoder applies the agent's side of a framebuffer channel, message by message as it crossed,
// to a copy of the screen, with the very code FramebufferClient uses, but without a channel:
// the gateway's recorder keeps its own copy of the screen with it, and a recording's player
// shows one. Whatever encodings the viewer decodes, a Decoder decodes.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	fb      *FramebufferClient
	updates uint64        // update-end messages applied
	stream  *decodeStream // the agent's zstd stream (version 2), from its first stream message
}

// NewDecoder returns a decoder with no screen yet: the first layout makes one.
func NewDecoder() (*Decoder, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(wire.MaxPixelData))
	if err != nil {
		return nil, fmt.Errorf("rdp: zstd decoder: %w", err)
	}
	return &Decoder{fb: &FramebufferClient{dec: dec, img: image.NewRGBA(image.Rectangle{})}}, nil
}

// Close frees the decoder's zstd state.
func (d *Decoder) Close() {
	d.fb.dec.Close()
	if d.stream != nil {
		d.stream.close()
	}
}

// Apply applies one whole message, framing included (as a Framer hands them out). It reports
// whether the message ended an update. A hello or close changes nothing; a message that does not
// belong to the agent's side of a framebuffer channel, or does not decode, is an error, and the
// image is then as the messages before it left it.
func (d *Decoder) Apply(msg []byte) (end bool, err error) {
	t, p, err := splitMessage(msg)
	if err != nil {
		return false, err
	}
	return d.applyFrame(t, p)
}

// applyFrame applies one message of type t.
func (d *Decoder) applyFrame(t wire.Type, p []byte) (end bool, err error) {
	switch t {
	case wire.THello, wire.TClose:
		return false, nil
	case wire.TStream:
		return d.applyStream(p)
	case wire.TLayout, wire.TRect, wire.TUpdateEnd, wire.TCursorPos, wire.TCursorShape:
	default:
		return false, protocolErrorf("a %s message is not the agent's on the framebuffer channel", t)
	}
	var u Update
	if err := d.fb.handle(t, p, &u); err != nil {
		return false, err
	}
	if t == wire.TUpdateEnd {
		d.updates++
	}
	return t == wire.TUpdateEnd, nil
}

// Updates is how many updates the decoder has applied.
func (d *Decoder) Updates() uint64 { return d.updates }

// Ready reports whether a layout arrived, so there is a screen.
func (d *Decoder) Ready() bool { return len(d.fb.monitors) > 0 }

// Bounds is the virtual screen.
func (d *Decoder) Bounds() image.Rectangle { return d.fb.img.Rect }

// Monitors is the latest layout.
func (d *Decoder) Monitors() []Monitor { return d.fb.Monitors() }

// Image is the decoder's screen. It changes under the caller with every Apply.
func (d *Decoder) Image() *image.RGBA { return d.fb.img }

// Cursor is the pointer as last reported.
func (d *Decoder) Cursor() Cursor { return d.fb.cursor }

// AppendKeyFrame appends to b the messages that bring a new Decoder to this one's state: the
// layout, the screen as raw rectangles, the pointer's shape and position, and an update end.
// They are ordinary framebuffer messages, so whatever reads the channel reads a key frame. Before
// the first layout it appends nothing.
func (d *Decoder) AppendKeyFrame(b []byte) []byte {
	if !d.Ready() {
		return b
	}
	l := &wire.Layout{Format: wire.FormatRGB24}
	for _, m := range d.fb.monitors {
		l.Monitors = append(l.Monitors, wire.Monitor{X: int32(m.X), Y: int32(m.Y), W: uint16(m.W), H: uint16(m.H), Primary: m.Primary, Name: m.Name})
	}
	b = wire.Append(b, l)
	img := d.fb.img
	rows := max(1, wire.MaxPixelData/(img.Rect.Dx()*3))
	var pix []byte
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y += rows {
		r := image.Rect(img.Rect.Min.X, y, img.Rect.Max.X, min(y+rows, img.Rect.Max.Y))
		pix = packRGB(pix[:0], img, r)
		b = wire.Append(b, &wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncRaw, Data: pix})
	}
	cur := d.fb.cursor
	shape := &wire.CursorShape{Enc: wire.EncRaw}
	if cur.Shape != nil {
		shape.W, shape.H = uint16(cur.Shape.Rect.Dx()), uint16(cur.Shape.Rect.Dy())
		shape.HotX, shape.HotY, shape.Data = uint16(cur.HotX), uint16(cur.HotY), cur.Shape.Pix
	}
	b = wire.Append(b, shape)
	b = wire.Append(b, &wire.CursorPos{X: int32(clampCoord(cur.X)), Y: int32(clampCoord(cur.Y))})
	return wire.Append(b, &wire.UpdateEnd{Seq: d.updates})
}

// splitMessage checks a whole message's framing and returns its type and payload.
func splitMessage(msg []byte) (wire.Type, []byte, error) {
	if len(msg) < 5 {
		return 0, nil, protocolErrorf("message of %d bytes is shorter than its framing", len(msg))
	}
	if n := binary.BigEndian.Uint32(msg); int(n) != len(msg)-4 {
		return 0, nil, protocolErrorf("message says %d bytes, has %d", n, len(msg)-4)
	}
	return wire.Type(msg[4]), msg[5:], nil
}

// MessageName is the name of a whole message's type ("rect", "key", "clipboard", …).
func MessageName(msg []byte) string {
	if len(msg) < 5 {
		return "short"
	}
	return wire.Type(msg[4]).String()
}

// IsClipboard reports whether a whole message is clipboard text, and returns the text.
func IsClipboard(msg []byte) (string, bool) {
	t, p, err := splitMessage(msg)
	if err != nil || t != wire.TClipboard {
		return "", false
	}
	var m wire.Clipboard
	if m.DecodePayload(p) != nil {
		return "", false
	}
	return m.Text, true
}

// ErrFraming is wrapped by Framer.Feed when a stream's length field is impossible.
var ErrFraming = errors.New("rdp: bad framing")

// Framer splits a channel's byte stream, in whatever pieces it crossed, into whole messages,
// without decoding them. It holds at most one message (1 MiB + 64 bytes) between pieces.
type Framer struct {
	buf []byte
}

// Feed takes the next piece of the stream and calls emit with every message it completes,
// framing included. The slice emit gets is valid only during the call. After an error the
// stream cannot be split any more.
func (f *Framer) Feed(p []byte, emit func(msg []byte)) error {
	for len(p) > 0 {
		if len(f.buf) == 0 {
			// Whole messages straight from p, without copying.
			n, err := frameLen(p)
			if err != nil {
				return err
			}
			if n > 0 && len(p) >= n {
				emit(p[:n])
				p = p[n:]
				continue
			}
		}
		need := 4
		if len(f.buf) >= 4 {
			n, err := frameLen(f.buf)
			if err != nil {
				return err
			}
			need = n
		}
		take := min(need-len(f.buf), len(p))
		f.buf = append(f.buf, p[:take]...)
		p = p[take:]
		if len(f.buf) == need && need > 4 {
			emit(f.buf)
			f.buf = f.buf[:0]
		}
	}
	return nil
}

// Pending is how many bytes of an incomplete message the framer holds.
func (f *Framer) Pending() int { return len(f.buf) }

// frameLen is the whole length of the message b starts with, or 0 if b is shorter than the
// length field.
func frameLen(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, nil
	}
	n := binary.BigEndian.Uint32(b)
	if n == 0 || n > wire.MaxMessage {
		return 0, fmt.Errorf("%w: length %d (1 to %d allowed)", ErrFraming, n, wire.MaxMessage)
	}
	return int(n) + 4, nil
}
