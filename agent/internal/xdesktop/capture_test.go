package xdesktop

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/assistkit/assist/internal/harness/xvfb"
)

// noise is a BGRX image whose every channel differs, so a swapped channel cannot pass.
func noise(w, h int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, w*h*4)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// xwdRoot takes the X server's own picture of the root window with xwd.
func xwdRoot(t *testing.T, display string) *image.RGBA {
	t.Helper()
	img, err := xvfb.Screenshot(display)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestCaptureMatchesServer(t *testing.T) {
	d := openTest(t, "-screen", "0", "1280x720x24")
	c := newClient(t, d.Display())
	c.put(0, 0, 1280, 720, noise(1280, 720, 1))
	want := xwdRoot(t, d.Display())

	for _, shm := range []bool{true, false} {
		t.Run(fmt.Sprintf("shm=%v", shm), func(t *testing.T) {
			if shm && !d.grab.useSHM {
				t.Fatal("MIT-SHM is not in use on Xvfb")
			}
			d.grab.useSHM = shm
			for _, r := range []image.Rectangle{
				image.Rect(0, 0, 1280, 720),
				image.Rect(100, 50, 1280, 51),
				image.Rect(333, 444, 333+77, 444+5), // odd width: the tail pixel path
				image.Rect(1279, 719, 1280, 720),
			} {
				got := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
				if err := d.Capture(got, r); err != nil {
					t.Fatalf("capture %v: %v", r, err)
				}
				sub := want.SubImage(r).(*image.RGBA)
				for y := 0; y < r.Dy(); y++ {
					g := got.Pix[y*got.Stride : y*got.Stride+r.Dx()*4]
					w := sub.Pix[y*sub.Stride : y*sub.Stride+r.Dx()*4]
					if !bytes.Equal(g, w) {
						t.Fatalf("capture %v: row %d differs from xwd", r, y)
					}
				}
			}
		})
	}
}

func TestCaptureOffScreenIsBlack(t *testing.T) {
	d := openTest(t, "-screen", "0", "640x480x24")
	c := newClient(t, d.Display())
	c.put(0, 0, 640, 480, bytes.Repeat([]byte{0x10, 0x20, 0x30, 0}, 640*480))
	r := image.Rect(600, 470, 700, 490)
	got := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	if err := d.Capture(got, r); err != nil {
		t.Fatal(err)
	}
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			want := [4]byte{0, 0, 0, 0xff}
			if x < 40 && y < 10 {
				want = [4]byte{0x30, 0x20, 0x10, 0xff}
			}
			o := y*got.Stride + x*4
			if [4]byte(got.Pix[o:o+4]) != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got.Pix[o:o+4], want)
			}
		}
	}
}

// convertPerPixel is the plain conversion of X's B, G, R, pad pixels to RGBA, what a capture
// must give.
func convertPerPixel(dst, src []byte, n int) {
	for i := 0; i < n*4; i += 4 {
		dst[i], dst[i+1], dst[i+2], dst[i+3] = src[i+2], src[i+1], src[i], 0xff
	}
}

// TestGrabConvertsBands grabs several areas at once, one reaching off the screen, and converts
// them in bands from two goroutines at once, as the framebuffer side does while it diffs: the
// image is the X server's own picture of the root window (xwd), black off the screen, with and
// without MIT-SHM.
func TestGrabConvertsBands(t *testing.T) {
	d := openTest(t, "-screen", "0", "1280x720x24")
	c := newClient(t, d.Display())
	c.put(0, 0, 1280, 720, noise(1280, 720, 3))
	want := xwdRoot(t, d.Display())
	areas := []image.Rectangle{
		image.Rect(0, 0, 1280, 320),
		image.Rect(64, 320, 577, 384), // odd width
		image.Rect(1216, 640, 1344, 768),
	}
	for _, shm := range []bool{true, false} {
		t.Run(fmt.Sprintf("shm=%v", shm), func(t *testing.T) {
			d.grab.useSHM = shm
			f, err := d.Grab(areas)
			if err != nil {
				t.Fatal(err)
			}
			got := image.NewRGBA(image.Rect(0, 0, 1344, 768))
			done := make(chan struct{})
			convert := func(odd int) {
				for _, a := range areas {
					for y := a.Min.Y; y < a.Max.Y; y += 16 {
						if (y/16)%2 == odd {
							f.Convert(got, image.Rect(a.Min.X, y, a.Max.X, min(y+16, a.Max.Y)))
						}
					}
				}
			}
			go func() { convert(1); close(done) }()
			convert(0)
			<-done
			f.Release()
			for _, a := range areas {
				for y := a.Min.Y; y < a.Max.Y; y++ {
					for x := a.Min.X; x < a.Max.X; x++ {
						w := [4]byte{0, 0, 0, 0xff}
						if (image.Point{x, y}).In(want.Rect) {
							w = [4]byte(want.Pix[want.PixOffset(x, y):])
						}
						if g := [4]byte(got.Pix[got.PixOffset(x, y):]); g != w {
							t.Fatalf("pixel (%d,%d) of %v = %v, want %v", x, y, a, g, w)
						}
					}
				}
			}
		})
	}
}
