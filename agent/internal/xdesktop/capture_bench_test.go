package xdesktop

import (
	"encoding/binary"
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

func BenchmarkConvert1080p(b *testing.B) {
	src := noise(1920, 1080, 3)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		bgrxToRGBA(dst, src, 1920*1080)
	}
}

// convertPerPixel is the straightforward loop, kept to show what the word-wise one saves.
func convertPerPixel(dst, src []byte, n int) {
	for i := 0; i < n*4; i += 4 {
		dst[i], dst[i+1], dst[i+2], dst[i+3] = src[i+2], src[i+1], src[i], 0xff
	}
}

// convertSafe64 is the portable two-pixels-per-word loop with encoding/binary's bounds checks.
func convertSafe64(dst, src []byte, n int) {
	src, dst = src[:n*4], dst[:n*4]
	for i := 0; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:i+8:i+8], swap2(binary.LittleEndian.Uint64(src[i:i+8:i+8])))
	}
}

func BenchmarkConvertPerPixel1080p(b *testing.B) {
	src := noise(1920, 1080, 3)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		convertPerPixel(dst, src, 1920*1080)
	}
}

func BenchmarkConvertSafe64_1080p(b *testing.B) {
	src := noise(1920, 1080, 3)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		convertSafe64(dst, src, 1920*1080)
	}
}
