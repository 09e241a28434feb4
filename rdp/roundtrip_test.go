package rdp

import (
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// paletteNoise paints r with pixels drawn from n colours, so the encoder's palette path is
// taken at each bit width (1, 2, 4 bits) and with widths that leave a partial byte per row.
func paletteNoise(img *image.RGBA, r image.Rectangle, n int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	cols := make([]color.RGBA, n)
	for i := range cols {
		cols[i] = color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(i * 13), 255}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, cols[rng.IntN(n)])
		}
	}
}

// TestEncodeDecodeRoundTrip sends a sequence of frames through the encoder and the viewer's
// decoder and checks, after each, that the viewer's image and the encoder's mirror both equal
// the frame byte for byte: whatever the encoder chooses (solid, palette, zstd, raw, copy, in
// whatever split), the viewer must end up with the screen.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	const w, h = 1000, 700 // not multiples of the tile size
	before, after, _ := terminalScene()
	crop := func(img *image.RGBA) *image.RGBA {
		c := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			copy(rowBytes(c, 0, w, y), rowBytes(img, 200, 200+w, y+80))
		}
		return c
	}
	frames := []func() *image.RGBA{
		func() *image.RGBA { return desktop(w, h, 1) },
		func() *image.RGBA { return desktop(w, h, 2) },
		func() *image.RGBA { return crop(before) },
		func() *image.RGBA { return crop(after) }, // a scroll: a copy rectangle
		func() *image.RGBA {
			img := desktop(w, h, 3)
			for i, n := range []int{2, 3, 4, 5, 16, 17} {
				paletteNoise(img, image.Rect(13+i*151, 7+i*31, 13+i*151+37+i*11, 7+i*31+61+i*17), n, uint64(i))
			}
			noise(img, image.Rect(500, 300, 777, 555), 4)
			gradient(img, image.Rect(0, 600, w, h))
			return img
		},
		func() *image.RGBA {
			img := desktop(w, h, 3)
			fillRect(img, image.Rect(0, 0, w, h/2), titleBG)
			img.SetRGBA(w-1, h-1, color.RGBA{1, 2, 3, 255})
			return img
		},
		func() *image.RGBA {
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			paletteNoise(img, img.Rect, 16, 9)
			return img
		},
		func() *image.RGBA { img := image.NewRGBA(image.Rect(0, 0, w, h)); noise(img, img.Rect, 5); return img },
		func() *image.RGBA { return desktop(w, h, 1) },
	}
	for _, poll := range []bool{true, false} {
		workers := 1 // one goroutine, and more goroutines than this machine may have cores
		if poll {
			workers = 3
		}
		e := newEncoderWorkers(image.Rect(0, 0, w, h), allCaps, workers)
		c := newTestClient(t, []Monitor{{W: w, H: h}})
		e.forceAll(e.bounds)
		for i, frame := range frames {
			img := frame()
			if poll {
				e.markChanged(img.Rect)
			} else {
				e.forceAll(img.Rect)
			}
			out := e.encode(img, img.Rect, nil)
			out = wire.Append(out, &wire.UpdateEnd{Seq: uint64(i + 1)})
			c.updates <- splitFrames(t, out)
			c.outstanding = c.inFlight
			u, err := c.Next(context.Background())
			if err != nil {
				t.Fatalf("poll %v, frame %d: %v", poll, i, err)
			}
			encs := map[string]int{}
			for _, r := range u.Rects {
				encs[r.Enc]++
			}
			t.Logf("poll %v, frame %d: %d bytes, %v", poll, i, len(out), encs)
			if !samePixels(c, img) {
				t.Fatalf("poll %v, frame %d: the viewer's image differs from the frame", poll, i)
			}
			for y := 0; y < h; y++ {
				if string(rowBytes(e.prev, 0, w, y)) != string(rowBytes(img, 0, w, y)) {
					t.Fatalf("poll %v, frame %d: the encoder's mirror differs from the frame at row %d", poll, i, y)
				}
			}
		}
	}
}
