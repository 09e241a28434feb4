package rdp

import (
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

// forRows calls f for each tile row in [ty0, ty1). When parallel, the rows are handed out one
// at a time to up to e.workers goroutines (the caller's included), each with its own coder, so a
// slow row (text) does not hold up a band of fast ones (wallpaper); forRows returns when all
// are done.
func (e *encoder) forRows(ty0, ty1 int, parallel bool, f func(c *rectCoder, ty int)) {
	n := min(e.workers, ty1-ty0)
	if !parallel || n < 2 {
		for ty := ty0; ty < ty1; ty++ {
			f(e.coders[0], ty)
		}
		return
	}
	var next atomic.Int64
	next.Store(int64(ty0))
	work := func(c *rectCoder) {
		for ty := int(next.Add(1) - 1); ty < ty1; ty = int(next.Add(1) - 1) {
			f(c, ty)
		}
	}
	var wg sync.WaitGroup
	for _, c := range e.coders[1:n] {
		wg.Go(func() { work(c) })
	}
	work(e.coders[0])
	wg.Wait()
}
