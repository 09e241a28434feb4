package xvfb

import (
	"image"
	"image/color"
	"os"
	"testing"
)

func TestParseXWDSample(t *testing.T) {
	b, err := os.ReadFile("testdata/root-32x16.xwd") // xwd -root of a 32x16x24 Xvfb
	if err != nil {
		t.Fatal(err)
	}
	img, err := ParseXWD(b)
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect != image.Rect(0, 0, 32, 16) {
		t.Fatalf("bounds %v", img.Rect)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0xff {
			t.Fatalf("alpha at %d is %d", i, img.Pix[i])
		}
	}
}

// A screen with a Wine Direct3D window on it: xwd writes 24-bit pixels in 32-bit rows. The
// sample is cut from xwd -root of the person's app under Wine, at the corner of its blue button.
func TestParseXWDMultiVisual(t *testing.T) {
	b, err := os.ReadFile("testdata/multivisual-32x16.xwd")
	if err != nil {
		t.Fatal(err)
	}
	img, err := ParseXWD(b)
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect != image.Rect(0, 0, 32, 16) {
		t.Fatalf("bounds %v", img.Rect)
	}
	if c := img.RGBAAt(10, 8); c != (color.RGBA{R: 0x1a, G: 0x56, B: 0xb8, A: 0xff}) {
		t.Fatalf("the button's pixel is %v", c)
	}
}

func FuzzParseXWD(f *testing.F) {
	for _, name := range []string{"root-32x16.xwd", "multivisual-32x16.xwd"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:100])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := ParseXWD(b)
		if err == nil && (img.Rect.Dx() <= 0 || img.Rect.Dy() <= 0) {
			t.Fatalf("empty image %v without an error", img.Rect)
		}
	})
}
