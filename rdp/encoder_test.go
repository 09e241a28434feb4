package rdp

import (
	"bytes"
	"image"
	"slices"
	"testing"

	"github.com/assistkit/assist/rdp/internal/wire"
)

const allCaps = wire.CapSolid | wire.CapZstd | wire.CapCopy | wire.CapCursor | wire.CapPalette

// encodeChange has an encoder send a, then the change to b, and returns the second update's size
// and rectangles.
func encodeChange(t testing.TB, a, b *image.RGBA) (int, []RectInfo) {
	e := newEncoder(a.Rect, allCaps)
	e.markChanged(a.Rect)
	e.encode(a, a.Rect, nil)
	e.markChanged(b.Rect)
	out := e.encode(b, b.Rect, nil)
	out = wire.Append(out, &wire.UpdateEnd{Seq: 2})
	return len(out), append([]RectInfo(nil), e.rects...)
}

func TestEncodeSizes(t *testing.T) {
	base := desktop(1920, 1080, 1)
	glyph := cloneRGBA(base)
	newFont(7).drawGlyph(glyph, 1200, 400, 33, black, white)
	before, after, _ := terminalScene()
	cases := []struct {
		name  string
		a, b  *image.RGBA
		limit int
	}{
		{"full screen", desktop(1920, 1080, 2), base, 64 << 10},
		{"one glyph", base, glyph, 110},
		{"terminal scroll", before, after, 10 << 10},
	}
	for _, c := range cases {
		n, rects := encodeChange(t, c.a, c.b)
		t.Logf("%s: %d bytes, %d rects", c.name, n, len(rects))
		if n > c.limit {
			t.Errorf("%s: %d bytes, want at most %d (rects %+v)", c.name, n, c.limit, rects[:min(len(rects), 8)])
		}
	}
}

// partsBuffer is a partWriter that keeps what it is handed.
type partsBuffer struct{ b []byte }

func (p *partsBuffer) writePart(b []byte) { p.b = append(p.b, b...) }

// TestEncodeInParts: an encoder that hands an update on in parts as they are ready (to the
// stream) hands on, whatever order its workers finish the tile rows in, what an encoder
// appending to out returns: what came before (a layout), the copies of the moved windows, then
// the rows from the top.
func TestEncodeInParts(t *testing.T) {
	const w, h = 1280, 720
	frames := deskScenes(t, w, h, 8, 6)
	e := newEncoderWorkers(frames[0].Rect, allCaps&^wire.CapZstd, 4)
	var parts partsBuffer
	e.parts = &parts
	before := wire.Append(nil, &wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: w, H: h, Primary: true}}})
	e.forceAll(frames[0].Rect)
	copies := 0
	for i, f := range frames {
		e.markChanged(f.Rect)
		parts.b = parts.b[:0]
		if out := e.encode(f, f.Rect, slices.Clone(before)); len(out) != 0 {
			t.Fatalf("scene %d: encode in parts returned %d bytes", i, len(out))
		}
		want := append(slices.Clone(before), e.head.buf...)
		for _, r := range e.rows {
			want = append(want, r.buf...)
		}
		if !bytes.Equal(parts.b, want) {
			t.Fatalf("scene %d: %d bytes handed on in parts, not the %d of the layout, copies and rows in order", i, len(parts.b), len(want))
		}
		copies += len(e.head.rects)
	}
	if copies == 0 {
		t.Errorf("no copies in the scenes: the test does not see the copies' place")
	}
}
