package rdp

import (
	"fmt"
	"image"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

const (
	// tileSize is the diff granularity. 64×64 keeps the per-frame compare cheap and small
	// changes small once each tile's box is narrowed to the changed pixels.
	tileSize = 64
	// maxRunWidth caps a merged row of tiles so a raw rectangle stays under wire.MaxPixelData
	// (4096×64×3 = 768 KiB).
	maxRunWidth = 4096
)

// encoder turns the difference between what the viewer has and a new capture into rectangle
// messages. prev mirrors the viewer's image exactly: it starts black like the viewer's, and
// every rectangle sent is applied to it the way the viewer applies it. So plain diffing is
// always correct; the per-tile state only says where to look.
type encoder struct {
	caps   uint64
	bounds image.Rectangle // the virtual screen
	prev   *image.RGBA

	tw, th   int
	cand     []image.Rectangle // per tile: the part that may differ from prev (damage, polling)
	forced   []bool            // per tile: send it whole, changed or not (a full request)
	captured []bool            // this frame: the tile was captured and diffed
	dirty    []image.Rectangle // this frame: the changed pixels of the tile, or empty

	// Lossy encoding (CapJPEG; lossy.go).
	policy  lossyPolicy      // set by the caller before each encode
	streak  []uint8          // per tile: how often it changed lately (countStreaks)
	movedAt []int64          // per tile: when it last changed (Unix nanoseconds; countStreaks)
	lossyAt []int64          // per tile: when the viewer got lossy pixels of it (Unix ns), 0: exact
	refine  []bool           // this frame: the tile is sent exactly to replace lossy pixels
	now     func() time.Time // time.Now; tests move it

	zenc    *zstd.Encoder // shared by the coders: EncodeAll runs one per worker at once
	coders  []*rectCoder  // one per worker; coders[0] also sends the scroll copies
	rows    []rowOut      // per tile row of the screen: what encodeRow produced
	head    rowOut        // the copy rectangles, sent before the rows
	rects   []RectInfo    // what the last encode appended
	parts   partWriter    // set by the caller: takes the update as it is encoded; nil: out does
	scr     scrollFinder
	motion  motionFinder
	workers int
	job     rowJob
}

func newEncoder(bounds image.Rectangle, caps uint64) *encoder {
	return newEncoderWorkers(bounds, caps, min(runtime.GOMAXPROCS(0), maxWorkers))
}

// newEncoderWorkers is newEncoder with the number of goroutines that diff and encode the tile
// rows of a large change.
func newEncoderWorkers(bounds image.Rectangle, caps uint64, workers int) *encoder {
	workers = max(workers, 1)
	zenc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(workers),
		zstd.WithEncoderCRC(false),
		zstd.WithSingleSegment(true))
	if err != nil {
		panic(fmt.Sprintf("rdp: zstd encoder: %v", err)) // only bad options fail
	}
	e := &encoder{caps: caps, zenc: zenc, workers: workers, now: time.Now}
	for range workers {
		e.coders = append(e.coders, &rectCoder{caps: caps, zenc: zenc})
	}
	e.makeWorkers()
	e.reset(bounds)
	return e
}

// reset starts over on a new virtual screen: the viewer has a black image.
func (e *encoder) reset(bounds image.Rectangle) {
	e.bounds = bounds
	e.prev = image.NewRGBA(bounds)
	fill(e.prev, bounds, [3]byte{})
	e.tw = (bounds.Dx() + tileSize - 1) / tileSize
	e.th = (bounds.Dy() + tileSize - 1) / tileSize
	n := e.tw * e.th
	e.cand = make([]image.Rectangle, n)
	e.forced = make([]bool, n)
	e.captured = make([]bool, n)
	e.dirty = make([]image.Rectangle, n)
	e.streak = make([]uint8, n)
	e.movedAt = make([]int64, n)
	e.lossyAt = make([]int64, n)
	e.refine = make([]bool, n)
	e.rows = make([]rowOut, e.th)
	e.job.ready = make([]atomic.Bool, e.th)
	for _, c := range e.coders {
		c.prev = e.prev
	}
}

func (e *encoder) tile(tx, ty int) image.Rectangle {
	min := e.bounds.Min.Add(image.Pt(tx*tileSize, ty*tileSize))
	return image.Rectangle{Min: min, Max: min.Add(image.Pt(tileSize, tileSize))}.Intersect(e.bounds)
}

// tileSpan returns the tiles that r touches, as [tx0,tx1)×[ty0,ty1).
func (e *encoder) tileSpan(r image.Rectangle) (tx0, ty0, tx1, ty1 int) {
	r = r.Intersect(e.bounds)
	if r.Empty() {
		return 0, 0, 0, 0
	}
	r = r.Sub(e.bounds.Min)
	return r.Min.X / tileSize, r.Min.Y / tileSize, (r.Max.X + tileSize - 1) / tileSize, (r.Max.Y + tileSize - 1) / tileSize
}

// markChanged records that r may have changed since the viewer last saw it.
func (e *encoder) markChanged(r image.Rectangle) {
	tx0, ty0, tx1, ty1 := e.tileSpan(r)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			e.cand[i] = e.cand[i].Union(r.Intersect(e.tile(tx, ty)))
		}
	}
}

// forceAll makes the next encode send every pixel of r.
func (e *encoder) forceAll(r image.Rectangle) {
	tx0, ty0, tx1, ty1 := e.tileSpan(r)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			e.forced[ty*e.tw+tx] = true
		}
	}
}

// wanted reports whether tile i must be captured and diffed for region.
func (e *encoder) wanted(i int, region image.Rectangle) bool {
	return e.forced[i] || e.cand[i].Overlaps(region)
}

// pending reports whether some part of region may differ from what the viewer has, or has lossy
// pixels due for refinement.
func (e *encoder) pending(region image.Rectangle) bool {
	if e.caps&wire.CapJPEG != 0 && e.refineDue(region, e.now()) {
		return true
	}
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			if e.wanted(ty*e.tw+tx, region) {
				return true
			}
		}
	}
	return false
}

// captureAreas appends to dst the rectangles of region that the next encode will read: whole
// tiles (clipped to region), merged into few rectangles so the Screen is asked for few captures.
func (e *encoder) captureAreas(dst []image.Rectangle, region image.Rectangle) []image.Rectangle {
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; {
			if !e.wanted(ty*e.tw+tx, region) {
				tx++
				continue
			}
			end := tx + 1
			for end < tx1 && e.wanted(ty*e.tw+end, region) {
				end++
			}
			r := e.tile(tx, ty).Union(e.tile(end-1, ty)).Intersect(region)
			// Extend the rectangle of the row above when it has the same span.
			if n := len(dst); n > 0 && dst[n-1].Min.X == r.Min.X && dst[n-1].Max.X == r.Max.X && dst[n-1].Max.Y == r.Min.Y {
				dst[n-1].Max.Y = r.Max.Y
			} else {
				dst = append(dst, r)
			}
			tx = end
		}
	}
	return dst
}

// A partWriter takes an update's bytes in order, a part at a time, while the encoder is still
// at work on the rest: the framebuffer stream, which compresses the first tile rows while the
// workers encode the later ones (conn.writePart).
type partWriter interface{ writePart(b []byte) }

// encode compares cur (the virtual screen's bounds; valid wherever captureAreas pointed) with
// what the viewer has, inside region, appends the rectangle messages to out and brings prev
// up to date. e.rects describes what was appended.
//
// Tile rows are independent once scrolls are found (each touches only its own band of prev),
// so a large change is diffed and encoded a tile row at a time on e.workers goroutines, each
// row into its own buffer, and the rows are then appended in order. With e.parts, encode hands
// it out, the copies, and then each row as soon as it and the rows above it are encoded, in
// place of appending them, and returns out[:0].
func (e *encoder) encode(cur *image.RGBA, region image.Rectangle, out []byte) []byte {
	region = region.Intersect(e.bounds)
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	lossy := e.caps&wire.CapJPEG != 0
	e.job.now = e.now().UnixNano()
	if lossy {
		e.planRefinement(region, time.Unix(0, e.job.now))
	}
	wanted := 0
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			e.captured[i] = e.wanted(i, region)
			if e.captured[i] {
				wanted++
			}
		}
	}
	e.job.cur, e.job.region, e.job.tx0, e.job.tx1 = cur, region, tx0, tx1
	defer func() { e.job.cur = nil }() // the frame is the caller's
	e.forRows(stepDiff, ty0, ty1, wanted >= minParallelTiles)
	e.head.reset()
	if e.caps&wire.CapCopy != 0 {
		// Motion is probed first, so that the scroll finder can pass over what moved sideways;
		// probed again if the scrolls' copies changed what is left to send.
		e.motion.setRange(e.job.now)
		moved := e.findMotion(cur, tx0, ty0, tx1, ty1)
		if e.encodeScrolls(cur, tx0, ty0, tx1, ty1) {
			moved = e.findMotion(cur, tx0, ty0, tx1, ty1)
		}
		if moved {
			e.copyMoved(cur, tx0, ty0, tx1, ty1)
		}
	}
	dirty := 0
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			if !e.dirty[ty*e.tw+tx].Empty() {
				dirty++
			}
		}
	}
	if e.parts != nil {
		e.parts.writePart(out)
		e.parts.writePart(e.head.buf)
		out = out[:0]
	} else {
		out = append(out, e.head.buf...)
	}
	e.forRows(stepEncode, ty0, ty1, dirty >= minParallelTiles)
	if lossy {
		e.countStreaks(tx0, ty0, tx1, ty1)
	}
	e.rects = append(e.rects[:0], e.head.rects...)
	for ty := ty0; ty < ty1; ty++ {
		if e.parts == nil {
			out = append(out, e.rows[ty].buf...)
		}
		e.rects = append(e.rects, e.rows[ty].rects...)
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			e.forced[i], e.captured[i] = false, false
			// Damage outside the region stays for when the region covers it.
			if e.cand[i].In(region) {
				e.cand[i] = image.Rectangle{}
			}
		}
	}
	return out
}

// encodeFrame is encode of a frame grabbed from a Grabber and not yet converted: cur is written
// in areas (where captureAreas pointed) band by band, as the rows are diffed.
func (e *encoder) encodeFrame(f Frame, areas []image.Rectangle, cur *image.RGBA, region image.Rectangle, out []byte) []byte {
	e.job.frame, e.job.areas = f, areas
	defer func() { e.job.frame, e.job.areas = nil, nil }()
	return e.encode(cur, region, out)
}

// diffRow finds the changed pixels of each tile of row ty in the job's region, with c's
// scratch space.
func (e *encoder) diffRow(c *rectCoder, ty int) {
	j := &e.job
	if j.frame != nil {
		band := e.tile(j.tx0, ty).Union(e.tile(j.tx1-1, ty))
		for _, a := range j.areas {
			if r := a.Intersect(band); !r.Empty() {
				j.frame.Convert(j.cur, r)
			}
		}
	}
	c.diffIn, c.diffAt = c.diffIn[:0], c.diffAt[:0]
	for tx := j.tx0; tx < j.tx1; tx++ {
		i := ty*e.tw + tx
		switch {
		case e.forced[i]:
			e.dirty[i] = e.tile(tx, ty).Intersect(j.region)
		case e.captured[i]:
			c.diffIn, c.diffAt = append(c.diffIn, e.tile(tx, ty).Intersect(j.region)), append(c.diffAt, i)
		default:
			e.dirty[i] = image.Rectangle{}
		}
	}
	c.diffOut = slices.Grow(c.diffOut[:0], len(c.diffIn))[:len(c.diffIn)]
	c.diffOpen = changedTiles(e.prev, j.cur, c.diffIn, c.diffOut, c.diffOpen)
	for k, i := range c.diffAt {
		e.dirty[i] = c.diffOut[k]
		e.refineTile(i, c.diffIn[k])
	}
}

// encodeRow sends the dirty tiles of one tile row, merging neighbours: solid tiles of one
// colour whose boxes line up become one solid rectangle, other neighbours one pixel rectangle.
func (e *encoder) encodeRow(c *rectCoder, cur *image.RGBA, ty, tx0, tx1 int, o *rowOut) {
	// Each tile's colour is looked at once, not again as the neighbour of the one before.
	c.solids = c.solids[:0]
	for tx := tx0; tx < tx1; tx++ {
		var s tileSolid
		if r := e.dirty[ty*e.tw+tx]; !r.Empty() && e.caps&wire.CapSolid != 0 {
			s.c, s.ok = solid(cur, r)
		}
		c.solids = append(c.solids, s)
	}
	for tx := tx0; tx < tx1; {
		r := e.dirty[ty*e.tw+tx]
		if r.Empty() {
			tx++
			continue
		}
		s := c.solids[tx-tx0]
		lossy := e.lossyEligible(ty*e.tw + tx)
		end := tx + 1
		for ; end < tx1; end++ {
			n := e.dirty[ty*e.tw+end]
			if n.Empty() || n.Union(r).Dx() > maxRunWidth || e.lossyEligible(ty*e.tw+end) != lossy {
				break
			}
			ns := c.solids[end-tx0]
			if s.ok != ns.ok {
				break
			}
			if s.ok && (ns.c != s.c || n.Min.Y != r.Min.Y || n.Max.Y != r.Max.Y || n.Min.X != r.Max.X) {
				break
			}
			r = r.Union(n)
		}
		sentLossy := false
		switch {
		case s.ok:
			c.appendSolid(r, s.c, o)
		case lossy:
			sentLossy = c.appendLossy(cur, r, e.policy.quality, o)
		default:
			c.appendPixels(cur, r, o)
		}
		if e.caps&wire.CapJPEG != 0 {
			e.markSent(r, ty, tx, end, sentLossy, e.job.now)
		}
		tx = end
	}
}

// tileSolid says whether a dirty tile is of one colour, and which.
type tileSolid struct {
	c  [3]byte
	ok bool
}
