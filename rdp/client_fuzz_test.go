package rdp

import (
	"bytes"
	"context"
	"image"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// newTestClient is a FramebufferClient with a layout and no channel, for feeding it updates
// directly.
func newTestClient(tb testing.TB, monitors []Monitor) *FramebufferClient {
	tb.Helper()
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(wire.MaxPixelData))
	if err != nil {
		tb.Fatal(err)
	}
	c := &FramebufferClient{c: newConn(&bytes.Buffer{}), inFlight: 1, dec: dec,
		updates: make(chan *received, 1), done: make(chan struct{})}
	l := &wire.Layout{Format: wire.FormatRGB24}
	for _, m := range monitors {
		l.Monitors = append(l.Monitors, wire.Monitor{X: int32(m.X), Y: int32(m.Y), W: uint16(m.W), H: uint16(m.H)})
	}
	c.setLayout(l)
	return c
}

// splitFrames turns a stream of framed messages into what the read loop hands to Next.
func splitFrames(tb testing.TB, stream []byte) *received {
	r := &received{}
	rd := bytes.NewReader(stream)
	for {
		t, p, _, err := wire.ReadFrame(rd, nil)
		if err != nil {
			return r
		}
		off := len(r.data)
		r.data = append(r.data, p...)
		r.msgs = append(r.msgs, frame{t: t, off: off, end: len(r.data)})
	}
}

// FuzzApplyUpdate feeds arbitrary updates to the viewer's decoder: it must reject what is bad
// with an error, never panic or write outside its image. Seeds are real encoder output.
func FuzzApplyUpdate(f *testing.F) {
	base := desktop(320, 200, 1)
	e := newEncoder(base.Rect, allCaps)
	e.forceAll(base.Rect)
	f.Add(e.encode(base, base.Rect, nil))
	next := cloneRGBA(base)
	copyRect(next, image.Rect(0, 0, 320, 180), image.Pt(0, 20))
	noise(next, image.Rect(10, 10, 30, 30), 1)
	e.markChanged(base.Rect)
	f.Add(e.encode(next, base.Rect, nil))
	var cursor []byte
	cursor = wire.Append(cursor, &wire.CursorShape{W: 2, H: 1, HotX: 1, Enc: wire.EncRaw, Data: make([]byte, 8)})
	cursor = wire.Append(cursor, &wire.CursorPos{X: 5, Y: 6})
	cursor = wire.Append(cursor, &wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: 10, H: 10}}})
	f.Add(cursor)
	f.Fuzz(func(t *testing.T, stream []byte) {
		c := newTestClient(t, []Monitor{{W: 320, H: 200}})
		c.updates <- splitFrames(t, stream)
		c.outstanding = c.inFlight
		_, _ = c.Next(context.Background())
	})
}
