package rdp

import (
	"image"
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
