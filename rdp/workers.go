package rdp

import (
	"image"
	"sync"
	"sync/atomic"
)

const (
	// maxWorkers caps the goroutines one encoder uses: the agent shares the machine with the
	// person's own work, and a 1080p frame has only 17 tile rows to share out.
	maxWorkers = 4
	// minParallelTiles is the work below which one goroutine is quicker than starting others:
	// a typed glyph or a scrolled line touches a handful of tiles, a full-screen change hundreds.
	minParallelTiles = 16
)

// rowStep is what forRows does to each tile row of an encode.
type rowStep uint8

const (
	stepDiff   rowStep = iota // find each tile's changed pixels
	stepEncode                // encode the row's dirty tiles into e.rows[ty]
	stepMotion                // find which candidate offset reproduces each changed tile
)

// rowJob is the encode forRows works on: the frame, its region's tiles, and the next row to
// hand out. It lives in the encoder, and each worker's function is made once, so that an
// encode allocates nothing, in parallel or not.
type rowJob struct {
	step     rowStep
	cur      *image.RGBA
	region   image.Rectangle
	tx0, tx1 int
	ty1      int
	now      int64 // Unix ns of this encode, for the tiles' lossy state
	// A frame grabbed and not yet converted into cur (encodeFrame): each row's part of its
	// areas is converted just before the row is diffed.
	frame    Frame
	areas    []image.Rectangle
	next     atomic.Int64
	wg       sync.WaitGroup
	work     []func() // work[i] runs rows on coders[i]; work[0] is unused (the caller works)
	hashPrev func()   // hashes prev's rows for findScroll beside the caller's hashing of cur

	// With e.parts, which rows of e.rows are encoded and not yet handed on, and a wake-up for
	// the caller, who hands them on in order (streamRows).
	ready  []atomic.Bool
	rowSig chan struct{}
}

func (e *encoder) makeWorkers() {
	e.job.work = make([]func(), len(e.coders))
	for i := 1; i < len(e.coders); i++ {
		c := e.coders[i]
		e.job.work[i] = func() { e.workRows(c); e.job.wg.Done() }
	}
	e.job.rowSig = make(chan struct{}, 1)
	e.job.hashPrev = func() { e.scr.hashRows(e.prev, e.scr.prevH); e.job.wg.Done() }
}

// forRows does step to each tile row in [ty0, ty1) of the region. When parallel, the rows are
// handed out one at a time to up to e.workers goroutines (the caller's included), each with its
// own coder, so a slow row (text) does not hold up a band of fast ones (wallpaper); forRows
// returns when all are done.
func (e *encoder) forRows(step rowStep, ty0, ty1 int, parallel bool) {
	j := &e.job
	j.step, j.ty1 = step, ty1
	j.next.Store(int64(ty0))
	n := min(e.workers, ty1-ty0)
	if !parallel || n < 2 {
		n = 1
	}
	j.wg.Add(n - 1)
	for _, w := range j.work[1:n] {
		go w()
	}
	if step == stepEncode && e.parts != nil {
		e.streamRows(e.coders[0], ty0)
	} else {
		e.workRows(e.coders[0])
	}
	j.wg.Wait()
}

// streamRows hands the encoded rows from ty0 on to e.parts in order, each as soon as it and
// those above it are done, and encodes rows itself (with c) while the next one to hand on is
// still with a worker. So the stream compresses the first rows while the workers encode the
// later ones, rather than all of them after.
func (e *encoder) streamRows(c *rectCoder, ty0 int) {
	j := &e.job
	for ty := ty0; ty < j.ty1; {
		switch {
		case j.ready[ty].Load():
			j.ready[ty].Store(false)
			e.parts.writePart(e.rows[ty].buf)
			ty++
		case e.takeRow(c):
		default:
			<-j.rowSig
		}
	}
}

// takeRow encodes the next row not yet taken, if there is one.
func (e *encoder) takeRow(c *rectCoder) bool {
	j := &e.job
	ty := int(j.next.Add(1) - 1)
	if ty >= j.ty1 {
		return false
	}
	e.encodeTileRow(c, ty)
	return true
}

// encodeTileRow encodes row ty into e.rows[ty] and, with e.parts, tells streamRows.
func (e *encoder) encodeTileRow(c *rectCoder, ty int) {
	j := &e.job
	e.rows[ty].reset()
	e.encodeRow(c, j.cur, ty, j.tx0, j.tx1, &e.rows[ty])
	if e.parts != nil {
		j.ready[ty].Store(true)
		select {
		case j.rowSig <- struct{}{}:
		default: // a wake-up is already on its way
		}
	}
}

func (e *encoder) workRows(c *rectCoder) {
	j := &e.job
	for ty := int(j.next.Add(1) - 1); ty < j.ty1; ty = int(j.next.Add(1) - 1) {
		switch j.step {
		case stepDiff:
			e.diffRow(c, ty)
		case stepEncode:
			e.encodeTileRow(c, ty)
		case stepMotion:
			for tx := j.tx0; tx < j.tx1; tx++ {
				e.motion.tried[ty*e.tw+tx] = e.tryOffsets(j.cur, tx, ty)
			}
		}
	}
}
