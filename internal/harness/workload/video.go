package workload

import (
	"image"
	"math"
	"math/rand/v2"
)

// Video mode: a 640×360 region (centred) of moving natural-looking content at 30 frames a
// second on an otherwise still desktop. The content is a landscape made once from fractal noise
// (sky, hills, grass texture), seen through a camera that pans over it, with a little sensor
// grain every frame: neighbouring frames are alike but never equal, the way a film is, and no
// pixel run or palette repeats exactly.

const videoW, videoH = 640, 360

// videoArea is the region video mode changes.
func videoArea(w, h int) image.Rectangle {
	vw, vh := min(videoW, w), min(videoH, h)
	x, y := (w-vw)/2, (h-vh)/2
	return image.Rect(x, y, x+vw, y+vh)
}

type film struct {
	land []uint32 // the landscape, landW×landH
	rng  *rand.Rand
}

const landW, landH = 1600, 720

// noise is smooth value noise in [0, 1) over a lattice of cell pixels.
func noise(lat []float64, n, x, y float64, cell float64) float64 {
	fx, fy := x/cell, y/cell
	x0, y0 := int(fx), int(fy)
	tx, ty := fx-float64(x0), fy-float64(y0)
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	at := func(i, j int) float64 { return lat[(j%int(n))*int(n)+i%int(n)] }
	a := at(x0, y0) + (at(x0+1, y0)-at(x0, y0))*tx
	b := at(x0, y0+1) + (at(x0+1, y0+1)-at(x0, y0+1))*tx
	return a + (b-a)*ty
}

func newFilm() *film {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 64
	lat := make([]float64, n*n)
	for i := range lat {
		lat[i] = rng.Float64()
	}
	fbm := func(x, y float64) float64 {
		v, amp, cell := 0.0, 0.5, 256.0
		for range 6 {
			v += amp * noise(lat, n, x+1000, y+1000, cell)
			amp, cell = amp/2, cell/2
		}
		return v
	}
	f := &film{land: make([]uint32, landW*landH), rng: rng}
	for x := 0; x < landW; x++ {
		ridge := landH*0.45 + 160*(fbm(float64(x), 0)-0.5) // the hills' skyline
		for y := 0; y < landH; y++ {
			v := fbm(float64(x), float64(y))
			var r, g, b float64
			if float64(y) < ridge { // sky with clouds
				t := float64(y) / ridge
				c := math.Max(0, v-0.45) * 2.2
				r, g, b = 90+60*t+160*c, 140+50*t+110*c, 210+20*t+40*c
			} else { // hills: grass, earth, shade
				t := (float64(y) - ridge) / (landH - ridge)
				r, g, b = 60+90*v-30*t, 100+80*v-20*t, 40+40*v
			}
			f.land[y*landW+x] = rgb(clamp8(r), clamp8(g), clamp8(b))
		}
	}
	return f
}

func clamp8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }

// frame draws frame n of the film into r of the canvas.
func (f *film) frame(c *canvas, r image.Rectangle, n int) {
	// The camera pans right and drifts up and down, about 4 px a frame.
	ox := (n * 4) % (landW - r.Dx())
	oy := int(float64(landH-r.Dy()) / 2 * (1 + math.Sin(float64(n)/40)))
	for y := 0; y < r.Dy(); y++ {
		src := f.land[(oy+y)*landW+ox:]
		for x := 0; x < r.Dx(); x++ {
			p := src[x]
			if g := f.rng.Uint32(); g&3 == 0 { // grain on a quarter of the pixels
				d := int(g>>8&7) - 3
				p = rgb(uint8(clampInt(int(p>>16&0xff)+d)), uint8(clampInt(int(p>>8&0xff)+d)), uint8(clampInt(int(p&0xff)+d)))
			}
			c.set(r.Min.X+x, r.Min.Y+y, p)
		}
	}
}

func clampInt(v int) int { return max(0, min(255, v)) }
