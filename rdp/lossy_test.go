package rdp

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// photo paints r with natural-looking content: smooth light and colour over the area, moved
// by frame, and a little grain, so no two frames and few neighbouring pixels are equal.
func photo(img *image.RGBA, r image.Rectangle, frame int) {
	rng := rand.New(rand.NewPCG(uint64(frame), 7))
	f := float64(frame) * 3
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			fx, fy := (float64(x)+f)/37, float64(y)/23
			l := 120 + 60*math.Sin(fx)*math.Cos(fy) + 30*math.Sin(fx*0.31+fy*0.7)
			g := rng.IntN(9) - 4
			i := img.PixOffset(x, y)
			img.Pix[i] = clampByte(l*0.9 + float64(g))
			img.Pix[i+1] = clampByte(l + 20*math.Sin(fy*0.5) + float64(g))
			img.Pix[i+2] = clampByte(l*0.7 + 40*math.Cos(fx*0.2) + float64(g))
			img.Pix[i+3] = 0xff
		}
	}
}

func clampByte(v float64) byte { return byte(max(0, min(255, v))) }

// psnr is the peak signal-to-noise ratio of got against want over r, in dB.
func psnr(got, want *image.RGBA, r image.Rectangle) float64 {
	var se float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		a, b := rowBytes(got, r.Min.X, r.Max.X, y), rowBytes(want, r.Min.X, r.Max.X, y)
		for i := range a {
			if i%4 == 3 {
				continue
			}
			d := float64(a[i]) - float64(b[i])
			se += d * d
		}
	}
	mse := se / float64(r.Dx()*r.Dy()*3)
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// minPSNR is what a lossy rectangle of photo-like content keeps at the lowest quality the agent
// uses (35, on the slowest links); measured 37.6 dB on photo's frames (37.9 at fast's 40).
const minPSNR = 30

// lossyRig is an encoder and a viewer's client fed directly, with the encoder's clock in the
// test's hands.
type lossyRig struct {
	t   *testing.T
	e   *encoder
	c   *FramebufferClient
	now time.Time
	seq uint64
}

func newLossyRig(t *testing.T, w, h int, policy lossyPolicy) *lossyRig {
	r := &lossyRig{t: t, now: time.Unix(1000, 0)}
	r.e = newEncoderWorkers(image.Rect(0, 0, w, h), allCaps|wire.CapJPEG, 2)
	r.e.now = func() time.Time { return r.now }
	r.e.policy = policy
	r.c = newTestClient(t, []Monitor{{W: w, H: h}})
	r.e.forceAll(r.e.bounds)
	return r
}

// send encodes img's changes and has the viewer apply them; it returns the encodings used.
func (r *lossyRig) send(img *image.RGBA) map[string]int {
	r.t.Helper()
	r.now = r.now.Add(33 * time.Millisecond)
	r.e.markChanged(img.Rect)
	out := r.e.encode(img, img.Rect, nil)
	r.seq++
	out = wire.Append(out, &wire.UpdateEnd{Seq: r.seq})
	r.c.updates <- splitFrames(r.t, out)
	r.c.outstanding = r.c.inFlight
	u, err := r.c.Next(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	encs := map[string]int{}
	for _, ri := range u.Rects {
		encs[ri.Enc]++
	}
	encs["bytes"] = len(out)
	return encs
}

// TestLossyRoundTripThenExact plays a moving photo-like area over a still desktop: under the
// fast and the slow-link auto policies the area goes as JPEG within minPSNR (auto once it has
// moved twice in a row), the desktop around it stays exact, and once the area rests
// refineAfter the viewer gets it exactly.
func TestLossyRoundTripThenExact(t *testing.T) {
	const w, h = 640, 448
	area := image.Rect(64, 64, 448, 320)
	for _, tc := range []struct {
		name     string
		policy   lossyPolicy
		lossless int // frames sent exactly before lossy starts
	}{
		{"fast", policyFor(QualityFast, 0), 0},
		{"auto on a bad link", policyFor(QualityAuto, 250e3), 1}, // the desktop's first frame moved it once
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newLossyRig(t, w, h, tc.policy)
			base := desktop(w, h, 1)
			r.send(base)
			if !samePixels(r.c, base) {
				t.Fatal("the desktop did not arrive exactly")
			}
			var img *image.RGBA
			for f := 0; f < 5; f++ {
				img = cloneRGBA(base)
				photo(img, area, f)
				encs := r.send(img)
				if lossy := encs["jpeg"] > 0; lossy != (f >= tc.lossless) {
					t.Fatalf("frame %d: encodings %v; want lossy from frame %d", f, encs, tc.lossless)
				}
				got := r.c.Snapshot(img.Rect)
				if p := psnr(got, img, area); p < minPSNR {
					t.Errorf("frame %d: PSNR %.1f dB, want at least %d", f, p, minPSNR)
				} else {
					t.Logf("frame %d: %v, PSNR %.1f dB", f, encs, p)
				}
				for _, out := range []image.Rectangle{image.Rect(0, 0, w, area.Min.Y), image.Rect(0, area.Max.Y, w, h)} {
					if psnr(got, img, out) != math.Inf(1) {
						t.Fatalf("frame %d: the still desktop around the area is not exact", f)
					}
				}
			}
			if r.e.pending(img.Rect) {
				t.Fatal("a refinement is due before the area rested")
			}
			r.now = r.now.Add(refineAfter)
			if !r.e.pending(img.Rect) {
				t.Fatal("no refinement is due after the area rested")
			}
			encs := r.send(img)
			if encs["jpeg"] > 0 {
				t.Errorf("the refinement is lossy: %v", encs)
			}
			if !samePixels(r.c, img) {
				t.Fatal("after the refinement the viewer's image is not exact")
			}
			if _, ok := r.e.nextRefine(); ok {
				t.Error("lossy tiles remain after the refinement")
			}
			r.now = r.now.Add(time.Hour)
			if r.e.pending(img.Rect) {
				t.Error("something is pending on a still, exact screen")
			}
		})
	}
}

// TestLossyFilmStaysLossyBetweenOtherChanges plays a film whose frames alternate with updates
// that change only something else on the screen (a clock, a cursor's trail), as they do when
// updates come faster than the film's frames: under auto the film stays lossy from its third
// frame on, and once it stops for longer than refineAfter it counts as still again.
func TestLossyFilmStaysLossyBetweenOtherChanges(t *testing.T) {
	const w, h = 640, 448
	area, clock := image.Rect(64, 64, 448, 320), image.Rect(600, 420, 608, 436)
	r := newLossyRig(t, w, h, policyFor(QualityAuto, 250e3))
	img := desktop(w, h, 1)
	r.send(img)
	for f := 0; f < 8; f++ {
		img = cloneRGBA(img)
		photo(img, area, f)
		if encs := r.send(img); encs["jpeg"] == 0 && f >= 1 {
			t.Fatalf("film frame %d went lossless: %v", f, encs)
		}
		img = cloneRGBA(img)
		fill(img, clock, [3]byte{byte(f), 0x20, 0x40})
		r.send(img)
	}
	r.now = r.now.Add(2 * refineAfter)
	r.send(img) // the refinement
	img = cloneRGBA(img)
	photo(img, area, 100)
	if encs := r.send(img); encs["jpeg"] > 0 {
		t.Errorf("the first frame after the film rested went lossy: %v", encs)
	}
	// On a slow link a lossless frame takes longer than refineAfter to cross: the film's next
	// frames still count as moving.
	for f := 101; f < 104; f++ {
		r.now = r.now.Add(refineAfter)
		img = cloneRGBA(img)
		photo(img, area, f)
		if encs := r.send(img); encs["jpeg"] == 0 && f >= 102 {
			t.Errorf("film frame %d, %v after the one before, went lossless: %v", f, refineAfter+33*time.Millisecond, encs)
		}
	}
}

// TestLossyLeavesTextExact changes desktop scenes (windows of text, flat UI) under the fast
// policy: none of it may go lossy.
func TestLossyLeavesTextExact(t *testing.T) {
	r := newLossyRig(t, 640, 448, policyFor(QualityFast, 0))
	for seed := uint64(1); seed <= 4; seed++ {
		img := desktop(640, 448, seed)
		if encs := r.send(img); encs["jpeg"] > 0 {
			t.Errorf("scene %d: text went lossy: %v", seed, encs)
		}
		if !samePixels(r.c, img) {
			t.Fatalf("scene %d: not exact", seed)
		}
	}
}

func TestLossySharpAndFastLinks(t *testing.T) {
	if p := policyFor(QualitySharp, 100e3); p.on {
		t.Error("sharp allows lossy")
	}
	if p := policyFor(QualityAuto, 100e6); p.on {
		t.Error("auto on a lan allows lossy")
	}
	if p := policyFor(QualityAuto, 0); p.on {
		t.Error("auto on an unmeasured link allows lossy")
	}
	if slow, vpn := policyFor(QualityAuto, 250e3), policyFor(QualityAuto, 1.25e6); !slow.on || !vpn.on || slow.quality >= vpn.quality {
		t.Errorf("auto: bad link %+v, vpn %+v: want lossy, the slower the lower the quality", slow, vpn)
	}
}

// jpegSample is a real JPEG rectangle as the agent sends it, the fuzz targets' seed.
func jpegSample(tb testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	photo(img, img.Rect, 1)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 40}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// FuzzDecodeJPEG feeds arbitrary data to the JPEG rectangle decoder: it must fail cleanly, and
// what it accepts is an image of exactly the rectangle's size.
func FuzzDecodeJPEG(f *testing.F) {
	f.Add(jpegSample(f), uint8(64), uint8(32))
	f.Fuzz(func(t *testing.T, data []byte, w, h uint8) {
		img, err := decodeJPEG(data, int(w), int(h))
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx() != int(w) || b.Dy() != int(h) {
			t.Fatalf("decoded %v for a %dx%d rectangle", b, w, h)
		}
		dst := image.NewRGBA(image.Rect(0, 0, int(w), int(h)))
		drawJPEG(dst, dst.Rect, img)
	})
}

// TestQualityReachesTheAgent runs ServeFramebuffer with a viewer that asks for fast, then sharp:
// a photo-like change goes lossy under fast and exact under sharp, and the agent refines what it
// had sent lossy by itself once it rests, with no change on the screen.
func TestQualityReachesTheAgent(t *testing.T) {
	s := newFakeScreen(Monitor{W: 640, H: 480, Primary: true})
	v, _, _ := serve(t, s, FramebufferOptions{PollInterval: time.Millisecond})
	c := newStreamClient(t, v, 1)
	next(t, c)
	area := image.Rect(64, 64, 448, 320)
	change := func(q Quality, frame int) map[string]int {
		t.Helper()
		if err := c.SetQuality(q); err != nil {
			t.Fatal(err)
		}
		s.set(func(img *image.RGBA) { photo(img, area, frame) })
		encs := map[string]int{}
		for {
			for _, r := range next(t, c).Rects {
				encs[r.Enc]++
			}
			if samePixelsWithin(c, s.snapshot(), area, minPSNR) {
				return encs
			}
		}
	}
	if encs := change(QualityFast, 1); encs["jpeg"] == 0 {
		t.Errorf("fast: a photo-like change went as %v", encs)
	}
	for !samePixels(c, s.snapshot()) { // the refinement, unasked
		for _, r := range next(t, c).Rects {
			if r.Enc == "jpeg" {
				t.Fatal("the refinement is lossy")
			}
		}
	}
	if encs := change(QualitySharp, 40); encs["jpeg"] > 0 {
		t.Errorf("sharp: a photo-like change went as %v", encs)
	}
	if got, want := c.Snapshot(s.snapshot().Rect), s.snapshot(); !samePixels(c, want) {
		t.Errorf("sharp: the viewer's image is not exact: %.1f dB in the area", psnr(got, want, area))
	}
}

// samePixelsWithin reports whether the viewer's image has want's pixels within r to at least
// minDB of PSNR, and exactly elsewhere.
func samePixelsWithin(c *FramebufferClient, want *image.RGBA, r image.Rectangle, minDB float64) bool {
	got := c.Snapshot(want.Rect)
	if psnr(got, want, r) < minDB {
		return false
	}
	for _, out := range []image.Rectangle{
		image.Rect(want.Rect.Min.X, want.Rect.Min.Y, want.Rect.Max.X, r.Min.Y),
		image.Rect(want.Rect.Min.X, r.Max.Y, want.Rect.Max.X, want.Rect.Max.Y),
		image.Rect(want.Rect.Min.X, r.Min.Y, r.Min.X, r.Max.Y),
		image.Rect(r.Max.X, r.Min.Y, want.Rect.Max.X, r.Max.Y),
	} {
		if !out.Empty() && psnr(got, want, out) != math.Inf(1) {
			return false
		}
	}
	return true
}
