package rdp

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"
)

// TestPackUnpackRGBMatchPerPixel: the word-wise packRGB and unpackRGB give what packing and
// unpacking a pixel at a time gives, for every width (the tails of 1–3 pixels) and offset.
func TestPackUnpackRGBMatchPerPixel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(-3, -2, 37, 9))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	for x0 := -3; x0 < 2; x0++ {
		for w := 1; w <= 33; w++ {
			r := image.Rect(x0, -1, x0+w, 4)
			var want []byte
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					p := img.RGBAAt(x, y)
					want = append(want, p.R, p.G, p.B)
				}
			}
			got := packRGB([]byte{9}, img, r)
			if got[0] != 9 || !bytes.Equal(got[1:], want) {
				t.Fatalf("packRGB of %v: %x, want %x", r, got[1:], want)
			}
			dst := image.NewRGBA(img.Rect)
			unpackRGB(dst, r, want)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					p, q := dst.RGBAAt(x, y), img.RGBAAt(x, y)
					if p.R != q.R || p.G != q.G || p.B != q.B || p.A != 0xff {
						t.Fatalf("unpackRGB of %v at (%d,%d): %v, want %v opaque", r, x, y, p, q)
					}
				}
			}
		}
	}
}

// TestChangedIsTheBoundingBox: changed gives the bounding box of the differing pixels, whatever
// their layout: none, one, a few scattered, whole rows, a column, everything.
func TestChangedIsTheBoundingBox(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := image.NewRGBA(image.Rect(-5, -3, 75, 70))
	for i := range a.Pix {
		a.Pix[i] = byte(rng.Uint32())
	}
	for trial := range 2000 {
		b := image.NewRGBA(a.Rect)
		copy(b.Pix, a.Pix)
		r := image.Rect(-5+rng.IntN(8), -3+rng.IntN(8), 75-rng.IntN(8), 70-rng.IntN(8))
		var want image.Rectangle
		flip := func(x, y int) {
			i := b.PixOffset(x, y) + rng.IntN(4)
			b.Pix[i] = a.Pix[i] ^ 0xff // different from a's, however often flipped
			if p := image.Pt(x, y); p.In(r) {
				want = want.Union(image.Rect(x, y, x+1, y+1))
			}
		}
		switch trial % 4 {
		case 0: // a few scattered pixels
			for range rng.IntN(6) {
				flip(a.Rect.Min.X+rng.IntN(a.Rect.Dx()), a.Rect.Min.Y+rng.IntN(a.Rect.Dy()))
			}
		case 1: // a column
			x := a.Rect.Min.X + rng.IntN(a.Rect.Dx())
			for y := a.Rect.Min.Y + rng.IntN(20); y < a.Rect.Max.Y-rng.IntN(20); y++ {
				flip(x, y)
			}
		case 2: // a block
			x0, y0 := a.Rect.Min.X+rng.IntN(a.Rect.Dx()), a.Rect.Min.Y+rng.IntN(a.Rect.Dy())
			for y := y0; y < min(y0+1+rng.IntN(30), a.Rect.Max.Y); y++ {
				for x := x0; x < min(x0+1+rng.IntN(30), a.Rect.Max.X); x++ {
					flip(x, y)
				}
			}
		case 3: // everything
			for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
				for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
					flip(x, y)
				}
			}
		}
		// A flip of the alpha byte counts too: changed compares whole pixels.
		if got := changed(a, b, r); got != want && !(got.Empty() && want.Empty()) {
			t.Fatalf("trial %d: changed(%v) = %v, want %v", trial, r, got, want)
		}
	}
}

// TestChangedTilesIsChanged: changedTiles, which reads a tile row's rows across its tiles, gives
// each tile what changed gives it, whatever changed where.
func TestChangedTilesIsChanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a := image.NewRGBA(image.Rect(-70, -3, 300, 70))
	for i := range a.Pix {
		a.Pix[i] = byte(rng.Uint32() % 3) // few values: rows often equal
	}
	var open []int
	for trial := range 2000 {
		b := image.NewRGBA(a.Rect)
		copy(b.Pix, a.Pix)
		for range rng.IntN(40) {
			x0, y0 := a.Rect.Min.X+rng.IntN(a.Rect.Dx()), a.Rect.Min.Y+rng.IntN(a.Rect.Dy())
			for y := y0; y < min(y0+1+rng.IntN(20*(trial%3)+1), a.Rect.Max.Y); y++ {
				for x := x0; x < min(x0+1+rng.IntN(40), a.Rect.Max.X); x++ {
					b.Pix[b.PixOffset(x, y)+rng.IntN(4)] ^= 0x80
				}
			}
		}
		// Tiles of one row: the same rows, columns left to right, some left out.
		y0 := a.Rect.Min.Y + rng.IntN(10)
		y1 := a.Rect.Max.Y - rng.IntN(10)
		var rs []image.Rectangle
		for x := a.Rect.Min.X + rng.IntN(5); x < a.Rect.Max.X; {
			w := 1 + rng.IntN(64)
			if rng.IntN(4) > 0 {
				rs = append(rs, image.Rect(x, y0, min(x+w, a.Rect.Max.X), y1))
			}
			x += w
		}
		out := make([]image.Rectangle, len(rs))
		open = changedTiles(a, b, rs, out, open)
		for k, r := range rs {
			if want := changed(a, b, r); out[k] != want {
				t.Fatalf("trial %d: tile %v: changedTiles gave %v, changed %v", trial, r, out[k], want)
			}
		}
	}
}
