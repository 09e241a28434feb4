package rdp

import (
	"image"
	"testing"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// The encoder benchmarks report, besides time and allocations, the bytes one update costs on
// the wire (wire-bytes/op), framing and the closing update-end included.
//
//	go test -run '^$' -bench . -benchtime 2s ./rdp

// benchChange encodes alternately the change a→b and b→a, marking changed what mark returns
// (the whole screen, as polling does, or the damage a ChangeWaiter would report).
func benchChange(b *testing.B, a, c *image.RGBA, mark image.Rectangle) {
	e := newEncoder(a.Rect, allCaps)
	e.forceAll(a.Rect)
	e.encode(a, a.Rect, nil)
	frames := [2]*image.RGBA{c, a}
	var out []byte
	total := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.markChanged(mark)
		out = e.encode(frames[i%2], a.Rect, out[:0])
		out = wire.Append(out, &wire.UpdateEnd{Seq: uint64(i)})
		total += len(out)
	}
	b.ReportMetric(float64(total)/float64(b.N), "wire-bytes/op")
}

func BenchmarkEncodeFullFrame(b *testing.B) {
	frame := desktop(1920, 1080, 1)
	e := newEncoder(frame.Rect, allCaps)
	var out []byte
	total := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.forceAll(frame.Rect) // what a viewer gets when it connects
		out = e.encode(frame, frame.Rect, out[:0])
		out = wire.Append(out, &wire.UpdateEnd{Seq: uint64(i)})
		total += len(out)
	}
	b.ReportMetric(float64(total)/float64(b.N), "wire-bytes/op")
}

func BenchmarkEncodeDesktopChange(b *testing.B) {
	// Every window's text changes: a full-screen change of content.
	a, c := desktop(1920, 1080, 1), desktop(1920, 1080, 2)
	benchChange(b, a, c, a.Rect)
}

func BenchmarkEncodeGlyph(b *testing.B) {
	a := desktop(1920, 1080, 1)
	c := cloneRGBA(a)
	newFont(7).drawGlyph(c, 1200, 400, 33, black, white)
	b.Run("poll", func(b *testing.B) { benchChange(b, a, c, a.Rect) })
	b.Run("damage", func(b *testing.B) { benchChange(b, a, c, image.Rect(1200, 400, 1208, 416)) })
}

func BenchmarkEncodeScroll(b *testing.B) {
	a, c, area := terminalScene()
	b.Run("poll", func(b *testing.B) { benchChange(b, a, c, a.Rect) })
	b.Run("damage", func(b *testing.B) { benchChange(b, a, c, area) })
}

// BenchmarkDecodeFullFrame measures the viewer applying a full desktop frame.
func BenchmarkDecodeFullFrame(b *testing.B) {
	frame := desktop(1920, 1080, 1)
	e := newEncoder(frame.Rect, allCaps)
	e.forceAll(frame.Rect)
	out := e.encode(frame, frame.Rect, nil)
	out = wire.Append(out, &wire.UpdateEnd{Seq: 1})
	c := newTestClient(b, []Monitor{{W: 1920, H: 1080}})
	r := splitFrames(b, out)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.updates <- r
		c.outstanding = c.inFlight
		if _, err := c.Next(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
