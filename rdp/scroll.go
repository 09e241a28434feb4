package rdp

import (
	"bytes"
	"hash/maphash"
	"image"
	"slices"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// minScrollRows is the shortest run of moved rows worth a copy rectangle: a copy costs about
// 15 bytes, 16 rows of even a flat area cost more as pixels.
const minScrollRows = 16

// scrollFinder holds the scratch space of scroll detection, reused from frame to frame.
type scrollFinder struct {
	seed         maphash.Seed
	prevH, curH  []uint64
	rows         map[uint64]int32 // row hash in prev → row index, or -1 when it is not unique
	votes        []int32
	queue, comps []int
	seen         []bool
	box          image.Rectangle // what findScroll hashes
}

// hashRows hashes the rows of img inside s.box into dst.
func (s *scrollFinder) hashRows(img *image.RGBA, dst []uint64) {
	for i := range dst {
		dst[i] = s.rowHash(rowBytes(img, s.box.Min.X, s.box.Max.X, s.box.Min.Y+i))
	}
}

// encodeScrolls looks, in each connected group of changed tiles, for a block of rows that moved
// vertically (a terminal or a page scrolling) and sends it as one copy rectangle. The tiles are
// then diffed again, so only what the copy did not explain (the new line) is sent as pixels.
// It reports whether it sent any.
//
// A group that the motion probes found mostly moved sideways (windows dragged, as on the
// bench's full scenes, where the group is the whole screen) is not searched: a copy of its
// whole width can only come from content that moved straight up or down, and hashing every
// row of both images for it, in vain, was a tenth of the agent's time an update there.
func (e *encoder) encodeScrolls(cur *image.RGBA, tx0, ty0, tx1, ty1 int) bool {
	s := &e.scr
	if s.rows == nil {
		s.seed = maphash.MakeSeed()
		s.rows = make(map[uint64]int32)
	}
	if len(s.seen) != len(e.dirty) {
		s.seen = make([]bool, len(e.dirty))
	}
	clear(s.seen)
	sent := false
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			if s.seen[i] || e.forced[i] || e.dirty[i].Empty() {
				continue
			}
			box := e.component(i, tx0, ty0, tx1, ty1)
			if box.Dy() < 2*minScrollRows || e.motion.sideways(s.comps) {
				continue
			}
			dst, src, ok := e.findScroll(cur, box)
			if !ok {
				continue
			}
			sent = true
			e.coders[0].appendCopy(dst, src, &e.head)
			if e.caps&wire.CapJPEG != 0 {
				e.copyLossy(dst, src, e.job.now)
			}
			for _, j := range s.comps {
				e.dirty[j] = changed(e.prev, cur, e.tile(j%e.tw, j/e.tw).Intersect(box))
			}
		}
	}
	return sent
}

// component collects in s.comps the (not forced) dirty tiles connected to tile i and returns the box
// of their changed pixels.
func (e *encoder) component(i, tx0, ty0, tx1, ty1 int) image.Rectangle {
	s := &e.scr
	s.queue = append(s.queue[:0], i)
	s.comps = s.comps[:0]
	s.seen[i] = true
	var box image.Rectangle
	for len(s.queue) > 0 {
		j := s.queue[len(s.queue)-1]
		s.queue = s.queue[:len(s.queue)-1]
		s.comps = append(s.comps, j)
		box = box.Union(e.dirty[j])
		tx, ty := j%e.tw, j/e.tw
		for _, n := range [4][2]int{{tx - 1, ty}, {tx + 1, ty}, {tx, ty - 1}, {tx, ty + 1}} {
			if n[0] < tx0 || n[0] >= tx1 || n[1] < ty0 || n[1] >= ty1 {
				continue
			}
			k := n[1]*e.tw + n[0]
			if !s.seen[k] && !e.forced[k] && !e.dirty[k].Empty() {
				s.seen[k] = true
				s.queue = append(s.queue, k)
			}
		}
	}
	return box
}

// findScroll finds the vertical shift that explains most changed rows of box, by matching row
// hashes of the new frame against the viewer's, then the longest run of rows that the shift
// reproduces exactly. It returns the copy's destination and source.
func (e *encoder) findScroll(cur *image.RGBA, box image.Rectangle) (image.Rectangle, image.Point, bool) {
	s := &e.scr
	n := box.Dy()
	s.prevH, s.curH = slices.Grow(s.prevH[:0], n)[:n], slices.Grow(s.curH[:0], n)[:n]
	s.box = box
	if e.workers > 1 && box.Dx()*n >= minParallelTiles*tileSize*tileSize {
		// The scroll pass runs before the rows are shared out: hash prev and cur side by side.
		e.job.wg.Add(1)
		go e.job.hashPrev()
		s.hashRows(cur, s.curH)
		e.job.wg.Wait()
	} else {
		s.hashRows(e.prev, s.prevH)
		s.hashRows(cur, s.curH)
	}
	clear(s.rows)
	for i, h := range s.prevH {
		if _, dup := s.rows[h]; dup {
			s.rows[h] = -1 // blank lines and borders repeat: they vote for every shift
		} else {
			s.rows[h] = int32(i)
		}
	}
	if cap(s.votes) < 2*n+1 {
		s.votes = make([]int32, 2*n+1)
	}
	s.votes = s.votes[:2*n+1]
	clear(s.votes)
	best := -1
	for i, h := range s.curH {
		if h == s.prevH[i] {
			continue
		}
		if j, ok := s.rows[h]; ok && j >= 0 {
			v := int(j) - i + n
			s.votes[v]++
			if best < 0 || s.votes[v] > s.votes[best] {
				best = v
			}
		}
	}
	if best < 0 || s.votes[best] < minScrollRows/4 {
		return image.Rectangle{}, image.Point{}, false
	}
	dy := best - n
	// The longest run of rows that the shift reproduces, checked byte for byte.
	inRun, runStart, bestStart, bestLen := false, 0, 0, 0 // y may be negative
	for y := box.Min.Y; y <= box.Max.Y; y++ {
		sy := y + dy
		same := y < box.Max.Y && sy >= box.Min.Y && sy < box.Max.Y &&
			bytes.Equal(rowBytes(cur, box.Min.X, box.Max.X, y), rowBytes(e.prev, box.Min.X, box.Max.X, sy))
		switch {
		case same && !inRun:
			inRun, runStart = true, y
		case !same && inRun:
			if y-runStart > bestLen {
				bestStart, bestLen = runStart, y-runStart
			}
			inRun = false
		}
	}
	if bestLen < minScrollRows {
		return image.Rectangle{}, image.Point{}, false
	}
	dst := image.Rect(box.Min.X, bestStart, box.Max.X, bestStart+bestLen)
	src := image.Pt(box.Min.X, bestStart+dy)
	if !e.readable(dst) || !e.readable(dst.Add(image.Pt(0, dy))) {
		return image.Rectangle{}, image.Point{}, false
	}
	return dst, src, true
}

// Row hashes only vote for a shift; the run of rows it explains is then checked byte for byte.
// So a wide row is hashed on a sample of it, hashStrips strips of hashStripBytes spread across
// its width: on a full-screen change that reads about 1/15 of the pixels that whole rows would
// (hashing whole rows of prev and cur was 14% of the agent's and viewer's time at 60 frames a
// second), and two rows that differ only between the strips at worst withhold their vote.
const (
	hashStrips     = 8
	hashStripBytes = 64 // 16 pixels, one cache line
)

func (s *scrollFinder) rowHash(row []byte) uint64 {
	if len(row) <= 2*hashStrips*hashStripBytes {
		return maphash.Bytes(s.seed, row)
	}
	var h uint64
	step := (len(row) - hashStripBytes) / (hashStrips - 1) &^ 3
	for k := 0; k < hashStrips; k++ {
		h = h*0x9e3779b97f4a7c15 ^ maphash.Bytes(s.seed, row[k*step:k*step+hashStripBytes])
	}
	return h
}

// readable reports whether every tile that r touches was captured in this frame, so that the
// rows compared above are the screen's real pixels.
func (e *encoder) readable(r image.Rectangle) bool {
	tx0, ty0, tx1, ty1 := e.tileSpan(r)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			if !e.captured[ty*e.tw+tx] {
				return false
			}
		}
	}
	return true
}
