package xvfb

import (
	"image"
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

func FuzzParseXWD(f *testing.F) {
	b, err := os.ReadFile("testdata/root-32x16.xwd")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:100])
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := ParseXWD(b)
		if err == nil && (img.Rect.Dx() <= 0 || img.Rect.Dy() <= 0) {
			t.Fatalf("empty image %v without an error", img.Rect)
		}
	})
}
