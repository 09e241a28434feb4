package xdesktop

import (
	"image"
	"testing"

	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xproto"
	"github.com/kbinani/screenshot"
)

// The capture benchmarks run on a 1920×1080x24 Xvfb:
//
//	go test -run '^$' -bench . -benchtime 2s ./agent/internal/xdesktop
//
// Capture1080p is the streaming path (SHM request + conversion), ServerSHM the X server's part
// alone, Convert1080p the conversion alone, GetImage1080p the no-SHM fallback, and
// Kbinani1080p the library's CaptureDisplay for comparison.

func benchDesktop(b *testing.B) *Desktop {
	d := openTest(b, "-screen", "0", "1920x1080x24")
	c := newClient(b, d.Display())
	c.put(0, 0, 1920, 1080, noise(1920, 1080, 7))
	return d
}

func BenchmarkCapture1080p(b *testing.B) {
	d := benchDesktop(b)
	dst := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	r := dst.Rect
	b.SetBytes(int64(len(dst.Pix)))
	for b.Loop() {
		if err := d.Capture(dst, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCaptureTile64(b *testing.B) {
	d := benchDesktop(b)
	dst := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for b.Loop() {
		if err := d.Capture(dst, image.Rect(640, 320, 704, 384)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkServerSHM1080p(b *testing.B) {
	d := benchDesktop(b)
	g := d.grab
	if err := g.ensureSegment(1920 * 1080 * 4); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_, err := shm.GetImage(g.conn, g.root, 0, 0, 1920, 1080, 0xffffffff, xproto.ImageFormatZPixmap, g.seg, 0).Reply()
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetImage1080p(b *testing.B) {
	d := benchDesktop(b)
	d.grab.useSHM = false
	dst := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	for b.Loop() {
		if err := d.Capture(dst, dst.Rect); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKbinani1080p(b *testing.B) {
	d := benchDesktop(b)
	b.Setenv("DISPLAY", d.Display()) // the library only reads $DISPLAY
	for b.Loop() {
		if _, err := screenshot.CaptureDisplay(0); err != nil {
			b.Fatal(err)
		}
	}
}
