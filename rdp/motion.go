package rdp

import (
	"bytes"
	"encoding/binary"
	"image"
	"slices"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Motion: windows that moved. The scroll finder sees content that moved straight up or down in
// a column of tiles; a window dragged a few pixels, or several windows each moved their own way
// with their documents scrolled on, move on both axes at once, and the whole screen is one
// connected change. So after the scrolls, a large change is probed: segments of the new frame,
// one in each of a sample of changed tiles, are looked for in the viewer's image within the
// motion range on both axes, and the offsets at which two or more probes match are tried on
// every changed tile; a tile that one of them reproduces exactly is sent as a copy (neighbours
// with the same offset as one rectangle), and only what no offset explains as pixels.

const (
	// motionRangeX, motionRangeY bound the offsets searched when an update follows the one
	// before within motionInterval: a window dragged between two updates, a document scrolled
	// by a few lines. Content moves on with time, so after a longer interval (a slow link, an
	// agent behind its screen) the range grows in proportion: up and down up to
	// motionMaxScaleY times (a document read on screen scrolls on by a score of lines in the
	// 300–600 ms between two updates on the bench's `bad` link), across up to motionMaxScaleX
	// times. A probe's search costs in proportion to the range's area, at most 12 times its
	// base once the interval is 6 times as long; most probes are found at an offset found
	// before and search nothing (probeMotion).
	motionRangeX    = 48
	motionRangeY    = 96
	motionInterval  = 50 * time.Millisecond
	motionMaxScaleX = 2
	motionMaxScaleY = 6
	// motionProbe is a probe's width in pixels; motionProbes how many tiles are probed at most.
	motionProbe  = 32
	motionProbes = 64
	// motionCandidates is how many offsets are tried on each tile, the most voted first.
	motionCandidates = 8
	// motionFound is how many offsets found a probe tries before it searches the range.
	motionFound = 16
	// motionBandRows is the fewest rows of a tile a band copy carries (copyBands).
	motionBandRows = 4
	// motionFruitless is how many probes may search the range at its base in vain in one
	// encode (fewer as the range grows, in proportion to its area, but at least 2); the probes
	// after them only try the offsets found. A probe in new content (a line typed, a window's
	// edge over what it uncovered) searches the whole range for nothing: on the bench's full
	// scenes 0 to 11 probes an encode do, each at the range's cost, which is 12 times its base
	// once updates come 300 ms apart (a busy agent, a slow link). Limited so, none of the
	// bench's scenes sends more pixels.
	motionFruitless = 10
)

type motionFinder struct {
	// Per tile, for copyMoved: which of cands reproduces it (tryOffsets, for all changed
	// tiles at once before the walk), and whether a copy of this walk wrote into it.
	tried   []int8
	written []bool

	votes   map[image.Point]int
	cands   []motionCand
	probe   []int         // tiles that may be probed
	probed  []bool        // per tile: findMotion probed it
	nprobed int           // how many it probed
	found   []image.Point // offsets this encode's probes found so far, tried first by the next
	vain    int           // probes of this encode that may yet search the range and find nothing
	rx, ry  int           // this encode's range
	last    int64         // Unix ns of the last encode
}

type motionCand struct {
	off   image.Point // source = destination + off
	votes int
}

// setRange sets this encode's range from the time since the last encode.
func (m *motionFinder) setRange(now int64) {
	scale := 1.0
	if m.last != 0 {
		scale = max(float64(now-m.last)/float64(motionInterval), 1)
	}
	m.rx, m.ry, m.last = int(motionRangeX*min(scale, motionMaxScaleX)), int(motionRangeY*min(scale, motionMaxScaleY)), now
}

// findMotion probes the changed tiles of [tx0,tx1)×[ty0,ty1) and leaves in e.motion.cands the
// offsets at which content of the viewer's image, moved, may reproduce them; false when there
// are none (or too few changed tiles to probe).
func (e *encoder) findMotion(cur *image.RGBA, tx0, ty0, tx1, ty1 int) bool {
	m := &e.motion
	if m.votes == nil {
		m.votes = make(map[image.Point]int)
	}
	if len(m.probed) != len(e.dirty) {
		// A new layout: the tiles probed last are of the old one.
		m.probed, m.probe = make([]bool, len(e.dirty)), m.probe[:0]
	}
	for _, i := range m.probe {
		m.probed[i] = false
	}
	m.probe, m.cands, m.nprobed = m.probe[:0], m.cands[:0], 0
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			if i := ty*e.tw + tx; !e.forced[i] && e.dirty[i].Dx() >= motionProbe+8 && e.dirty[i].Dy() >= 16 {
				m.probe = append(m.probe, i)
			}
		}
	}
	if len(m.probe) < minParallelTiles {
		return false
	}
	clear(m.votes)
	m.found = m.found[:0]
	m.vain = max(2, motionFruitless*motionRangeX*motionRangeY/(m.rx*m.ry))
	step := max(1, len(m.probe)/motionProbes)
	for k := 0; k < len(m.probe); k += step {
		e.probeMotion(cur, m.probe[k])
		m.probed[m.probe[k]] = true
		m.nprobed++
	}
	m.rankCandidates()
	return len(m.cands) > 0
}

// rankCandidates sets cands to the offsets two or more probes found, the most voted first, at
// most motionCandidates of them. The votes come out of a map in no order, so ties go by offset:
// one input always gives the same copies.
func (m *motionFinder) rankCandidates() {
	m.cands = m.cands[:0]
	for off, v := range m.votes {
		if v >= 2 && off != (image.Point{}) {
			m.cands = append(m.cands, motionCand{off, v})
		}
	}
	slices.SortFunc(m.cands, func(a, b motionCand) int {
		if a.votes != b.votes {
			return b.votes - a.votes
		}
		if a.off.Y != b.off.Y {
			return a.off.Y - b.off.Y
		}
		return a.off.X - b.off.X
	})
	m.cands = m.cands[:min(len(m.cands), motionCandidates)]
}

// sideways reports whether the tiles of comp hold at least half of the tiles that findMotion
// probed, and the offset most of them voted for moves across: then what changed in comp is
// mostly content moved sideways (windows dragged), which no vertical shift of comp's whole
// width reproduces.
func (m *motionFinder) sideways(comp []int) bool {
	if len(m.cands) == 0 || m.cands[0].off.X == 0 {
		return false
	}
	n := 0
	for _, i := range comp {
		if m.probed[i] {
			n++
		}
	}
	return 2*n >= m.nprobed
}

// copyMoved sends as copies the changed tiles that one of e.motion.cands reproduces, and of
// those no offset reproduces whole, the bands above and below what changed in them.
//
// The viewer applies copies in order, each reading its image as the ones before left it, so a
// copy whose source reaches into a neighbour must come before the copy into that neighbour:
// the tiles are walked against the most voted offset's direction (bottom up when content moved
// down, right to left when it moved right). In the wrong order, every tile row but the first
// and every band but a row's first found their sources' edges overwritten, and went as pixels.
//
// Which offset reproduces each tile is found for all of them first, on the encode's goroutines,
// in the viewer's image as it was before the walk; the walk takes a tile's answer as found
// unless a copy before it wrote where the offsets it tried read, and asks again then (the
// copies are walked so that the most voted offset's sources are not yet written).
func (e *encoder) copyMoved(cur *image.RGBA, tx0, ty0, tx1, ty1 int) {
	m := &e.motion
	if len(m.tried) != len(e.dirty) {
		m.tried, m.written = make([]int8, len(e.dirty)), make([]bool, len(e.dirty))
	}
	clear(m.written)
	e.forRows(stepMotion, ty0, ty1, true)
	off := m.cands[0].off
	for k := range ty1 - ty0 {
		ty := walk(k, ty0, ty1, off.Y < 0)
		for j := 0; j < tx1-tx0; {
			tx := walk(j, tx0, tx1, off.X < 0)
			o, ok := e.tileMotion(cur, tx, ty)
			if !ok {
				e.copyBands(cur, ty*e.tw+tx)
				j++
				continue
			}
			n := 1 // the run of tiles the same offset reproduces, as one copy
			for j+n < tx1-tx0 {
				if on, ok := e.tileMotion(cur, walk(j+n, tx0, tx1, off.X < 0), ty); !ok || on != o {
					break
				}
				n++
			}
			a, b := tx, walk(j+n-1, tx0, tx1, off.X < 0)
			dst := e.tile(min(a, b), ty).Union(e.tile(max(a, b), ty)).Intersect(e.job.region)
			e.copyBand(dst, o)
			// tileMotion found each of these tiles equal to its source, and the copy put the
			// source there: nothing of them is left to send, and diffing them again would
			// compare a tile of equal pixels each.
			for t := min(a, b); t <= max(a, b); t++ {
				e.dirty[ty*e.tw+t] = image.Rectangle{}
			}
			j += n
		}
	}
}

// walk is the k-th of [lo, hi), counted from hi down when back.
func walk(k, lo, hi int, back bool) int {
	if back {
		return hi - 1 - k
	}
	return lo + k
}

// copyBands sends, of changed tile i, which no offset reproduced whole, the rows at the top and
// at the bottom of its changed box that one reproduces, as copies, and finds the tile's changed
// box again: what is left is the band between them (a line typed into, or scrolled in, in a
// window that moved).
func (e *encoder) copyBands(cur *image.RGBA, i int) {
	d := e.dirty[i]
	if e.forced[i] || d.Dy() < motionBandRows {
		return
	}
	top, topOff := e.bandRun(cur, d, d.Min.Y, 1)
	bottom, bottomOff := e.bandRun(cur, d, d.Max.Y-1, -1)
	bottom = min(bottom, d.Dy()-top)
	copied := false
	if top >= motionBandRows {
		e.copyBand(image.Rect(d.Min.X, d.Min.Y, d.Max.X, d.Min.Y+top), topOff)
		copied = true
	}
	if bottom >= motionBandRows {
		e.copyBand(image.Rect(d.Min.X, d.Max.Y-bottom, d.Max.X, d.Max.Y), bottomOff)
		copied = true
	}
	if copied {
		e.dirty[i] = changed(e.prev, cur, d)
	}
}

// bandRun returns the most rows of d, from row y on in direction dir (1 down, -1 up), that one
// of the candidate offsets reproduces, and that offset.
func (e *encoder) bandRun(cur *image.RGBA, d image.Rectangle, y, dir int) (int, image.Point) {
	best, bestOff := 0, image.Point{}
	for _, c := range e.motion.cands {
		if src := d.Add(c.off); !src.In(e.bounds) {
			continue
		}
		n := 0
		for yy := y; yy >= d.Min.Y && yy < d.Max.Y; yy += dir {
			if !bytes.Equal(rowBytes(cur, d.Min.X, d.Max.X, yy), rowBytes(e.prev, d.Min.X+c.off.X, d.Max.X+c.off.X, yy+c.off.Y)) {
				break
			}
			n++
		}
		if n > best {
			best, bestOff = n, c.off
		}
	}
	return best, bestOff
}

// copyBand sends dst as a copy of the viewer's pixels at off from it.
func (e *encoder) copyBand(dst image.Rectangle, off image.Point) {
	e.coders[0].appendCopy(dst, dst.Min.Add(off), &e.head)
	tx0, ty0, tx1, ty1 := e.tileSpan(dst)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			e.motion.written[ty*e.tw+tx] = true
		}
	}
	if e.caps&wire.CapJPEG != 0 {
		e.copyLossy(dst, dst.Min.Add(off), e.job.now)
	}
}

// probeMotion votes for the offsets at which a segment of tile i's new pixels is found in the
// viewer's image. The offsets earlier probes of this encode found are tried first: a window's
// tiles all moved by one, so most probes are found at one of a few, and the one that is costs
// a compare of its segment, not a search of the range (one compare of 8 bytes at each of its
// 18,000 to 220,000 places, then the segment where they match).
func (e *encoder) probeMotion(cur *image.RGBA, i int) {
	d := e.dirty[i]
	y := d.Min.Y + d.Dy()/2
	x := d.Min.X + (d.Dx()-motionProbe)/2
	seg := rowBytes(cur, x, x+motionProbe, y)
	if flat(seg) {
		return // a background matches everywhere
	}
	b := e.bounds
	m := &e.motion
	for _, off := range m.found {
		sx, sy := x+off.X, y+off.Y
		if sx >= b.Min.X && sx+motionProbe <= b.Max.X && sy >= b.Min.Y && sy < b.Max.Y &&
			bytes.Equal(rowBytes(e.prev, sx, sx+motionProbe, sy), seg) {
			m.votes[off]++
			return
		}
	}
	if m.vain <= 0 {
		return
	}
	key := binary.LittleEndian.Uint64(seg)
	rx, ry := m.rx, m.ry
	found := false
	for sy := max(b.Min.Y, y-ry); sy <= min(b.Max.Y-1, y+ry); sy++ {
		x0, x1 := max(b.Min.X, x-rx), min(b.Max.X-motionProbe, x+rx)
		if x1 < x0 {
			continue
		}
		row := rowBytes(e.prev, x0, x1+motionProbe, sy)
		for sx := x0; sx <= x1; sx++ {
			o := 4 * (sx - x0)
			if binary.LittleEndian.Uint64(row[o:]) != key || !bytes.Equal(row[o:o+4*motionProbe], seg) {
				continue
			}
			off := image.Pt(sx-x, sy-y)
			if m.votes[off]++; m.votes[off] == 1 && off != (image.Point{}) && len(m.found) < motionFound {
				m.found = append(m.found, off)
			}
			found = true
		}
	}
	if !found {
		m.vain--
	}
}

// flat reports whether a row segment has too little detail to be told apart from others: under
// 3 changes of colour along it (a background, a rule, the middle of a wide letter).
func flat(seg []byte) bool {
	changes := 0
	prev := binary.LittleEndian.Uint32(seg) & 0xffffff
	for o := 4; o+4 <= len(seg); o += 4 {
		if c := binary.LittleEndian.Uint32(seg[o:]) & 0xffffff; c != prev {
			changes++
			prev = c
		}
	}
	return changes < 3
}

// tileMotion returns the candidate offset that reproduces changed tile (tx, ty) exactly, if one
// does: tryOffsets' answer from before the walk, or found again if a copy of the walk has since
// written where one of the offsets it tried reads.
func (e *encoder) tileMotion(cur *image.RGBA, tx, ty int) (image.Point, bool) {
	m := &e.motion
	i := ty*e.tw + tx
	k := int(m.tried[i])
	if k < 0 {
		k = len(m.cands) - 1 // none reproduced it: every offset was tried
	}
	t := e.tile(tx, ty).Intersect(e.job.region)
	for _, c := range m.cands[:k+1] {
		tx0, ty0, tx1, ty1 := e.tileSpan(t.Add(c.off))
		for sy := ty0; sy < ty1; sy++ {
			for sx := tx0; sx < tx1; sx++ {
				if m.written[sy*e.tw+sx] {
					m.tried[i] = e.tryOffsets(cur, tx, ty)
					return e.triedOffset(i)
				}
			}
		}
	}
	return e.triedOffset(i)
}

// triedOffset is the offset tryOffsets found for tile i.
func (e *encoder) triedOffset(i int) (image.Point, bool) {
	if k := e.motion.tried[i]; k >= 0 {
		return e.motion.cands[k].off, true
	}
	return image.Point{}, false
}

// tryOffsets returns the index in e.motion.cands of the first offset that reproduces changed
// tile (tx, ty) exactly in the viewer's image, or -1. It only reads the encoder's state, so the
// tiles are tried on several goroutines at once.
func (e *encoder) tryOffsets(cur *image.RGBA, tx, ty int) int8 {
	i := ty*e.tw + tx
	if e.forced[i] || e.dirty[i].Empty() {
		return -1
	}
	t := e.tile(tx, ty).Intersect(e.job.region)
	for k, c := range e.motion.cands {
		src := t.Add(c.off)
		if !src.In(e.bounds) {
			continue
		}
		same := true
		for y := t.Min.Y; y < t.Max.Y && same; y++ {
			same = bytes.Equal(rowBytes(cur, t.Min.X, t.Max.X, y), rowBytes(e.prev, src.Min.X, src.Max.X, y+c.off.Y))
		}
		if same {
			return int8(k)
		}
	}
	return -1
}
