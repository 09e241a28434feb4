package windesktop

import (
	"encoding/binary"
	"image"
	"image/color"
	"testing"
)

var (
	clear0 = color.RGBA{}
	black  = color.RGBA{0, 0, 0, 0xff}
	white  = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// monoSample is a 4×2 monochrome pointer, pitch 2 (padded): per row AND bits, then XOR bits.
// Row 0: transparent, black, white, inverting. Row 1: white, inverting, transparent, black.
var monoSample = []byte{
	0b1001_0000, 0xAA, // AND row 0 (the second byte is padding)
	0b0110_0000, 0xAA, // AND row 1
	0b0011_0000, 0x55, // XOR row 0
	0b1100_0000, 0x55, // XOR row 1
}

func TestPointerImageMonochrome(t *testing.T) {
	img, hx, hy, err := pointerImage(pointerShapeInfo{typ: shapeMonochrome, width: 4, height: 4, pitch: 2, hotX: 3, hotY: 9}, monoSample)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 4, 2) || hx != 3 || hy != 1 {
		t.Fatalf("shape %v hot (%d,%d), want 4×2 (the masks halve the height), hot clamped to (3,1)", img.Bounds(), hx, hy)
	}
	want := [2][4]color.RGBA{{clear0, black, white, black}, {white, black, clear0, black}}
	for y := range 2 {
		for x := range 4 {
			if got := img.RGBAAt(x, y); got != want[y][x] {
				t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want[y][x])
			}
		}
	}
}

func bgra(px ...uint32) []byte {
	b := make([]byte, 4*len(px))
	for i, p := range px {
		binary.LittleEndian.PutUint32(b[4*i:], p)
	}
	return b
}

// Colour pointers carry straight alpha; image.RGBA is premultiplied.
func TestPointerImageColor(t *testing.T) {
	buf := bgra(0xFF_FF0000, 0x80_00FF00, 0x00_0000FF, 0xFF_123456)
	img, _, _, err := pointerImage(pointerShapeInfo{typ: shapeColor, width: 2, height: 2, pitch: 8}, buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []color.RGBA{{0xff, 0, 0, 0xff}, {0, 0x80, 0, 0x80}, clear0, {0x12, 0x34, 0x56, 0xff}} {
		if got := img.RGBAAt(i%2, i/2); got != want {
			t.Errorf("pixel %d = %v, want %v", i, got, want)
		}
	}
}

// Masked colour: mask 0 replaces the screen, mask 0xFF XORs (black XOR leaves it).
func TestPointerImageMaskedColor(t *testing.T) {
	buf := bgra(0x00_FF8000, 0xFF_000000, 0xFF_FFFFFF)
	img, _, _, err := pointerImage(pointerShapeInfo{typ: shapeMaskedColor, width: 3, height: 1, pitch: 12}, buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []color.RGBA{{0xff, 0x80, 0, 0xff}, clear0, black} {
		if got := img.RGBAAt(i, 0); got != want {
			t.Errorf("pixel %d = %v, want %v", i, got, want)
		}
	}
}

func TestPointerImageRefusesBadShapes(t *testing.T) {
	for _, c := range []struct {
		name string
		si   pointerShapeInfo
		n    int
	}{
		{"unknown type", pointerShapeInfo{typ: 3, width: 2, height: 2, pitch: 8}, 16},
		{"empty", pointerShapeInfo{typ: shapeColor, width: 0, height: 2, pitch: 8}, 16},
		{"monochrome of one row", pointerShapeInfo{typ: shapeMonochrome, width: 8, height: 1, pitch: 1}, 2},
		{"huge", pointerShapeInfo{typ: shapeColor, width: 1 << 20, height: 1, pitch: 4 << 20}, 16},
		{"pitch below the width", pointerShapeInfo{typ: shapeColor, width: 4, height: 2, pitch: 8}, 64},
		{"buffer too short", pointerShapeInfo{typ: shapeColor, width: 2, height: 2, pitch: 8}, 15},
		{"monochrome buffer too short", pointerShapeInfo{typ: shapeMonochrome, width: 8, height: 4, pitch: 1}, 3},
	} {
		if _, _, _, err := pointerImage(c.si, make([]byte, c.n)); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// FuzzPointerImage feeds the conversion whatever a driver could put in the shape's info and
// buffer: it returns an error or an image of the announced size, never panics.
func FuzzPointerImage(f *testing.F) {
	f.Add(uint32(shapeMonochrome), uint32(4), uint32(4), uint32(2), monoSample)
	f.Add(uint32(shapeColor), uint32(2), uint32(2), uint32(8), bgra(0xFF_FF0000, 0x80_00FF00, 0x00_0000FF, 0xFF_123456))
	f.Add(uint32(shapeMaskedColor), uint32(3), uint32(1), uint32(12), bgra(0x00_FF8000, 0xFF_000000, 0xFF_FFFFFF))
	f.Fuzz(func(t *testing.T, typ, w, h, pitch uint32, buf []byte) {
		img, hx, hy, err := pointerImage(pointerShapeInfo{typ: typ, width: w, height: h, pitch: pitch, hotX: -5, hotY: 1 << 30}, buf)
		if err != nil {
			return
		}
		b := img.Bounds()
		if typ == shapeMonochrome {
			h /= 2
		}
		if b.Dx() != int(w) || b.Dy() != int(h) || hx != 0 || hy != b.Dy()-1 {
			t.Fatalf("%d×%d type %d gave %v hot (%d,%d)", w, h, typ, b, hx, hy)
		}
	})
}

// A GDI cursor's bitmaps become the DXGI shapes they are.
func TestIconShape(t *testing.T) {
	px := func(v ...byte) []byte { // one byte a pixel, spread to BGRA as GetDIBits gives it
		var b []byte
		for _, x := range v {
			b = append(b, x, x, x, 0)
		}
		return b
	}
	// Monochrome, 4×2: AND rows over XOR rows, as monoSample.
	si, bits := iconShape(px(1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0), 4, 4, nil, 0, 0)
	img, _, _, err := pointerImage(si, bits)
	if err != nil {
		t.Fatal(err)
	}
	if got := [4]color.RGBA{img.RGBAAt(0, 0), img.RGBAAt(1, 0), img.RGBAAt(2, 0), img.RGBAAt(3, 0)}; got != [4]color.RGBA{clear0, black, white, black} {
		t.Errorf("monochrome row 0 = %v", got)
	}
	// Colour with alpha.
	if si, _ := iconShape(px(0, 0), 2, 1, bgra(0x80_FF0000, 0), 2, 1); si.typ != shapeColor {
		t.Errorf("a colour bitmap with alpha is type %d", si.typ)
	}
	// Colour without alpha: the AND mask marks the pixels that XOR.
	si, buf := iconShape(px(0, 0xff, 0xff), 3, 1, bgra(0x00_FF8000, 0x00_000000, 0x00_FFFFFF), 3, 1)
	if si.typ != shapeMaskedColor {
		t.Fatalf("a colour bitmap without alpha is type %d", si.typ)
	}
	img, _, _, err = pointerImage(si, buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := [3]color.RGBA{img.RGBAAt(0, 0), img.RGBAAt(1, 0), img.RGBAAt(2, 0)}; got != [3]color.RGBA{{0xff, 0x80, 0, 0xff}, clear0, black} {
		t.Errorf("masked colour = %v", got)
	}
}
