package rdp

import (
	"image"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// TestMotionCopiesMovedWindows moves two windows of a desktop scene by different offsets on both
// axes, over a new background: the moved windows go as copies, for a fraction of their pixels'
// cost, and the viewer's image is the frame exactly.
func TestMotionCopiesMovedWindows(t *testing.T) {
	const w, h = 1000, 700
	base := desktop(w, h, 1)
	next := desktop(w, h, 2)
	moves := []struct {
		win image.Rectangle
		off image.Point
	}{
		{image.Rect(40, 60, 520, 460), image.Pt(13, -7)},
		{image.Rect(560, 200, 960, 640), image.Pt(-21, 30)},
	}
	for _, m := range moves {
		copyInto(next, base, m.win.Add(m.off), m.win.Min)
	}
	for _, motion := range []bool{false, true} {
		r := newLossyRig(t, w, h, lossyPolicy{})
		r.send(base)
		if !motion {
			r.e.caps &^= wire.CapCopy // no scroll nor motion search
		}
		encs := r.send(next)
		if !samePixels(r.c, next) {
			t.Fatalf("motion %v: the viewer's image is not the frame", motion)
		}
		t.Logf("motion %v: %v", motion, encs)
		if motion && encs["copy"] < 2 {
			t.Errorf("the moved windows did not go as copies: %v", encs)
		}
	}
}

// copyInto copies src's pixels at from (dst.Size() of them) to dst's rectangle r.
func copyInto(dst, src *image.RGBA, r image.Rectangle, from image.Point) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		sy := from.Y + y - r.Min.Y
		copy(rowBytes(dst, r.Min.X, r.Max.X, y), rowBytes(src, from.X, from.X+r.Dx(), sy))
	}
}

// TestMotionCopiesBandsAroundAChange moves a window whose text then changes in one band of
// rows (a line typed into, a line that scrolled in): the tiles that band crosses are not moved
// whole, but their rows above and below it are, and go as copies; only the band goes as pixels.
func TestMotionCopiesBandsAroundAChange(t *testing.T) {
	const w, h = 1000, 700
	base := desktop(w, h, 1)
	next := cloneRGBA(base)
	win, off := image.Rect(40, 60, 900, 640), image.Pt(11, -5)
	copyInto(next, base, win.Add(off), win.Min)
	band := image.Rect(win.Min.X+off.X, 300, win.Max.X+off.X, 312) // inside the tile row 256–320
	copyInto(next, desktop(w, h, 3), band, image.Pt(0, 100))
	r := newLossyRig(t, w, h, lossyPolicy{})
	r.send(base)
	encs := r.send(next)
	if !samePixels(r.c, next) {
		t.Fatal("the viewer's image is not the frame")
	}
	t.Logf("%v", encs)
	inner := win.Add(off).Inset(tileSize)
	for _, ri := range r.e.rects {
		rr := image.Rect(ri.X, ri.Y, ri.X+ri.W, ri.Y+ri.H)
		if ri.Enc != "copy" && rr.In(inner) && !rr.In(image.Rect(inner.Min.X, band.Min.Y, inner.Max.X, band.Max.Y)) {
			t.Errorf("%s rectangle %v inside the moved window, beyond the changed rows %d–%d", ri.Enc, rr, band.Min.Y, band.Max.Y)
		}
	}
}

// TestMotionOverlappingMoves moves several windows of a desktop by offsets of their own, each
// over where others were, so that the copy of one writes into pixels another's offset reads:
// which offset reproduces each tile is found before the copies are walked, and must be found
// again for a tile whose sources a copy has since overwritten. The viewer's image is the frame
// exactly in every case.
func TestMotionOverlappingMoves(t *testing.T) {
	const w, h = 1000, 700
	for seed := range uint64(24) {
		rng := rand.New(rand.NewPCG(seed, 5))
		base := desktop(w, h, seed+1)
		next := desktop(w, h, seed+100)
		for range 3 + rng.IntN(4) {
			win := image.Rect(0, 0, 160+rng.IntN(400), 120+rng.IntN(300))
			win = win.Add(image.Pt(rng.IntN(w-win.Dx()), rng.IntN(h-win.Dy())))
			off := image.Pt(rng.IntN(97)-48, rng.IntN(97)-48)
			dst := win.Add(off).Intersect(base.Rect)
			copyInto(next, base, dst, dst.Min.Sub(off))
		}
		r := newLossyRig(t, w, h, lossyPolicy{})
		r.send(base)
		encs := r.send(next)
		if !samePixels(r.c, next) {
			t.Fatalf("seed %d: the viewer's image is not the frame (%v)", seed, encs)
		}
		if seed == 0 {
			t.Logf("%v", encs)
		}
	}
}

// TestMotionCandidatesInFixedOrder ranks offsets with as many votes as each other many times:
// the most voted come first, and ties always in the same order, whatever order the map of votes
// hands them out in (so one input always gives the same copies).
func TestMotionCandidatesInFixedOrder(t *testing.T) {
	var m motionFinder
	m.votes = map[image.Point]int{{3, 1}: 5, {0, 0}: 9, {-2, 4}: 5, {7, -7}: 1}
	for k := range 10 {
		m.votes[image.Pt(k, -k)] = 3
	}
	var first []motionCand
	for i := range 50 {
		m.rankCandidates()
		if i == 0 {
			first = slices.Clone(m.cands)
			if len(first) != motionCandidates || first[0].votes != 5 || first[2].votes != 3 {
				t.Fatalf("candidates %+v: want the %d most voted, the no-move and single votes left out", first, motionCandidates)
			}
		} else if !slices.Equal(m.cands, first) {
			t.Fatalf("ranking %d: %+v, the first %+v", i, m.cands, first)
		}
	}
}

// TestMotionAcrossLayouts moves windows on a screen, then on a smaller one and a larger one:
// what the motion finder kept of one layout's tiles is not used on the next (it once indexed
// the new, smaller layout's tiles with the old one's), and each layout's moves go as copies.
func TestMotionAcrossLayouts(t *testing.T) {
	r := newLossyRig(t, 1000, 700, lossyPolicy{})
	for k, size := range []image.Point{{1000, 700}, {600, 400}, {1200, 800}} {
		if k > 0 {
			bounds := image.Rect(0, 0, size.X, size.Y)
			r.e.reset(bounds)
			r.e.forceAll(bounds)
			r.c = newTestClient(t, []Monitor{{W: size.X, H: size.Y}})
		}
		base := desktop(size.X, size.Y, uint64(k)+1)
		next := desktop(size.X, size.Y, uint64(k)+50)
		win := image.Rect(40, 60, size.X/2, size.Y-80)
		copyInto(next, base, win.Add(image.Pt(11, -9)), win.Min)
		r.send(base)
		encs := r.send(next)
		if !samePixels(r.c, next) {
			t.Fatalf("%v: the viewer's image is not the frame (%v)", size, encs)
		}
		if encs["copy"] == 0 {
			t.Errorf("%v: the moved window did not go as copies: %v", size, encs)
		}
	}
}
