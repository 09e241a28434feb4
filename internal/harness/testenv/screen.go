package testenv

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/viewer"
)

// StillSnapshot takes one frame of s as `assist connect --snapshot` does (viewer.Snapshot to a
// PNG file) at a moment the screen of display holds still: a program on it may still be
// drawing and nothing signals "done", so it tries until the X server's own screenshots before
// and after the snapshot are the same. It returns the snapshot and that screenshot.
func StillSnapshot(t testing.TB, s *viewer.Session, display string) (image.Image, *image.RGBA) {
	t.Helper()
	var got image.Image
	var want *image.RGBA
	WaitFor(t, 30*time.Second, "the screen to hold still across a snapshot", func() bool {
		before := screenshot(t, display)
		got = snapshot(t, s)
		want = screenshot(t, display)
		return bytes.Equal(before.Pix, want.Pix)
	})
	return got, want
}

// DifferingPixels counts the pixels whose colour differs between got and want; all of them when
// their bounds differ.
func DifferingPixels(got image.Image, want *image.RGBA) int {
	if got.Bounds() != want.Bounds() {
		return want.Rect.Dx() * want.Rect.Dy()
	}
	diff := 0
	for y := 0; y < want.Rect.Dy(); y++ {
		for x := 0; x < want.Rect.Dx(); x++ {
			r, g, b, _ := got.At(x, y).RGBA()
			o := want.PixOffset(x, y)
			if byte(r>>8) != want.Pix[o] || byte(g>>8) != want.Pix[o+1] || byte(b>>8) != want.Pix[o+2] {
				diff++
			}
		}
	}
	return diff
}

func screenshot(t testing.TB, display string) *image.RGBA {
	t.Helper()
	img, err := xvfb.Screenshot(display)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func snapshot(t testing.TB, s *viewer.Session) image.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.png")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := viewer.Snapshot(ctx, s, -1, path); err != nil {
		t.Fatal(err)
	}
	return ReadPNG(t, path)
}

// ReadPNG decodes the PNG file at path, failing t when it cannot.
func ReadPNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}
