package rdp

import (
	"image"
	"io"
	"log/slog"
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

// BenchmarkAnswerCaptureEncode is the agent's whole path for one update, as ServeFramebuffer
// runs it: capture the changed area from the Screen into the frame buffer, diff and encode it,
// and write it through the framebuffer stream (version 2). Its allocs/op must stay 0: a frame's
// buffers are the session's, not the frame's.
func BenchmarkAnswerCaptureEncode(b *testing.B) {
	frames := [2]*image.RGBA{desktop(1920, 1080, 1), desktop(1920, 1080, 2)}
	glyph := cloneRGBA(frames[0])
	newFont(7).drawGlyph(glyph, 1200, 400, 33, black, white)
	for _, bc := range []struct {
		name   string
		frames [2]*image.RGBA
		damage image.Rectangle
	}{
		{"desktop", frames, frames[0].Rect},
		{"glyph", [2]*image.RGBA{frames[0], glyph}, image.Rect(1200, 400, 1208, 416)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			screen := newFakeScreen(Monitor{W: 1920, H: 1080, Primary: true})
			var sink countingWriter
			s := &fbServer{c: newConn(&sink), screen: screen, log: slog.New(slog.DiscardHandler),
				caps: uint64(wire.CapSolid | wire.CapCopy | wire.CapPalette)}
			if err := s.c.startWriteStream(); err != nil {
				b.Fatal(err)
			}
			if _, err := s.checkLayout(); err != nil {
				b.Fatal(err)
			}
			answer := func(i int) {
				screen.set(func(img *image.RGBA) { copy(img.Pix, bc.frames[i%2].Pix) })
				s.damage = append(s.damage[:0], bc.damage)
				s.pending = 1
				if err := s.answer(); err != nil {
					b.Fatal(err)
				}
			}
			s.waiter = &waitingScreen{screen, nil} // damage as a ChangeWaiter reports it
			answer(0)
			answer(1) // buffers at their working size
			b.ReportAllocs()
			b.ResetTimer()
			start := sink.n
			for i := 0; i < b.N; i++ {
				answer(i)
			}
			b.ReportMetric(float64(sink.n-start)/float64(b.N), "wire-bytes/op")
		})
	}
}

// countingWriter is a channel that drops what it is sent and counts it.
type countingWriter struct{ n int }

func (w *countingWriter) Read([]byte) (int, error)    { return 0, io.EOF }
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
