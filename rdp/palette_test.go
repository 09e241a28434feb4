package rdp

import (
	"image"
	"math/rand/v2"
	"testing"
)

// TestPaletteRoundTrip packs random index rows at every palette size and width (whole bytes
// and a partial last byte) and unpacks them to the same pixels.
func TestPaletteRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 2; n <= 16; n++ {
		for _, w := range []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 64, 100} {
			img := image.NewRGBA(image.Rect(0, 0, w, 3))
			paletteNoise(img, img.Rect, n, rng.Uint64())
			var p palette
			idx, ok := p.collect(nil, img, img.Rect)
			if !ok {
				t.Fatalf("n=%d w=%d: collect found more than 16 colours", n, w)
			}
			packed := p.pack(nil, idx, w)
			got := image.NewRGBA(img.Rect)
			if err := unpackPalette(got, got.Rect, p.appendRGB(nil), packed); err != nil {
				t.Fatalf("n=%d w=%d: %v", n, w, err)
			}
			if !sameRGBA(got, img) {
				t.Fatalf("n=%d (%d found) w=%d: unpacked pixels differ\n got %v\nwant %v", n, p.n, w, got.Pix[:min(64, len(got.Pix))], img.Pix[:min(64, len(img.Pix))])
			}
		}
	}
}

// TestUnpackPaletteRejectsIndex checks that an index past the palette's colours is an error.
func TestUnpackPaletteRejectsIndex(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 1))
	for _, c := range []struct {
		n      int
		packed []byte
	}{
		{3, []byte{0b00_01_10_11}}, // index 3 of 3 colours
		{5, []byte{0x01, 0x50}},    // index 5 of 5 colours
		{5, []byte{0x00, 0x0f}},    // in the last pixel
		{9, []byte{0x00, 0xf0}},
	} {
		if err := unpackPalette(img, img.Rect, make([]byte, 3*c.n), c.packed); err == nil {
			t.Errorf("%d colours, rows %08b: no error", c.n, c.packed)
		}
	}
}

func sameRGBA(a, b *image.RGBA) bool {
	if a.Rect != b.Rect {
		return false
	}
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		if string(rowBytes(a, a.Rect.Min.X, a.Rect.Max.X, y)) != string(rowBytes(b, a.Rect.Min.X, a.Rect.Max.X, y)) {
			return false
		}
	}
	return true
}
