package rdp

import (
	"context"
	"image"
	"image/draw"
	"image/png"
	"os"
	"testing"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Frames captured from a real 1920×1080 Xvfb with xwd: an xterm listing /usr/bin, and the
// benchmark workload's desktop-like scene (internal/harness/workload).
var capturedFrames = []string{"testdata/xterm-1080p.png", "testdata/desktop-a-1080p.png"}

func loadFrame(tb testing.TB, path string) *image.RGBA {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba
}

// BenchmarkEncodeCapturedFrame encodes a real captured screen whole, as a viewer gets it when
// it connects.
func BenchmarkEncodeCapturedFrame(b *testing.B) {
	for _, path := range capturedFrames {
		b.Run(path[len("testdata/"):], func(b *testing.B) {
			frame := loadFrame(b, path)
			e := newEncoder(frame.Rect, allCaps)
			var out []byte
			total := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.forceAll(frame.Rect)
				out = e.encode(frame, frame.Rect, out[:0])
				out = wire.Append(out, &wire.UpdateEnd{Seq: uint64(i)})
				total += len(out)
			}
			b.ReportMetric(float64(total)/float64(b.N), "wire-bytes/op")
		})
	}
}

// BenchmarkEncodeCapturedChange switches the whole screen between the two captured frames.
func BenchmarkEncodeCapturedChange(b *testing.B) {
	a, c := loadFrame(b, capturedFrames[0]), loadFrame(b, capturedFrames[1])
	benchChange(b, a, c, a.Rect)
}

// TestCapturedFramesRoundTrip sends the captured frames, whole and as a change from one to the
// other, through the encoder and the viewer's decoder: the viewer must hold them exactly, so the
// benchmarks measure a correct encoder.
func TestCapturedFramesRoundTrip(t *testing.T) {
	a, c := loadFrame(t, capturedFrames[0]), loadFrame(t, capturedFrames[1])
	e := newEncoder(a.Rect, allCaps)
	client := newTestClient(t, []Monitor{{W: a.Rect.Dx(), H: a.Rect.Dy()}})
	e.forceAll(a.Rect)
	for i, img := range []*image.RGBA{a, c, a} {
		e.markChanged(img.Rect)
		out := e.encode(img, img.Rect, nil)
		out = wire.Append(out, &wire.UpdateEnd{Seq: uint64(i + 1)})
		client.updates <- splitFrames(t, out)
		client.outstanding = client.inFlight
		if _, err := client.Next(context.Background()); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !samePixels(client, img) {
			t.Fatalf("frame %d (%s): the viewer's image differs from the captured frame", i, capturedFrames[i%2])
		}
	}
}
