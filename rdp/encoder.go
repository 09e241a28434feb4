package rdp

import (
	"fmt"
	"image"

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
// messages. prev mirrors the viewer's image exactly: every rectangle sent is applied to it the
// way the viewer applies it.
type encoder struct {
	caps   uint64
	bounds image.Rectangle // the virtual screen
	prev   *image.RGBA

	tw, th int
	known  []bool            // the viewer has this tile's pixels
	cand   []bool            // this tile may differ from prev (damage, polling, unknown)
	dirty  []image.Rectangle // this frame: the changed pixels of the tile, or empty

	zenc  *zstd.Encoder
	pal   palette
	pbuf  []byte    // palette colours scratch
	pix   []byte    // packed RGB scratch
	zbuf  []byte    // compressed scratch
	msg   wire.Rect // reused so that encoding allocates nothing per rectangle
	rects []RectInfo
	scr   scrollFinder
}

func newEncoder(bounds image.Rectangle, caps uint64) *encoder {
	zenc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false),
		zstd.WithSingleSegment(true))
	if err != nil {
		panic(fmt.Sprintf("rdp: zstd encoder: %v", err)) // only bad options fail
	}
	e := &encoder{caps: caps, zenc: zenc}
	e.reset(bounds)
	return e
}

// reset starts over on a new virtual screen: the viewer has nothing.
func (e *encoder) reset(bounds image.Rectangle) {
	e.bounds = bounds
	e.prev = image.NewRGBA(bounds)
	e.tw = (bounds.Dx() + tileSize - 1) / tileSize
	e.th = (bounds.Dy() + tileSize - 1) / tileSize
	n := e.tw * e.th
	e.known = make([]bool, n)
	e.cand = make([]bool, n)
	e.dirty = make([]image.Rectangle, n)
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
			e.cand[ty*e.tw+tx] = true
		}
	}
}

// forget makes the tiles of r unknown, so the next update sends them whole.
func (e *encoder) forget(r image.Rectangle) {
	tx0, ty0, tx1, ty1 := e.tileSpan(r)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			e.known[ty*e.tw+tx] = false
		}
	}
}

// pending reports whether some tile of region must be looked at: it may have changed, or the
// viewer does not have it yet.
func (e *encoder) pending(region image.Rectangle) bool {
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			if i := ty*e.tw + tx; e.cand[i] || !e.known[i] {
				return true
			}
		}
	}
	return false
}

// captureAreas appends to dst the tile-aligned rectangles of region that the next encode will
// read, merged into few rectangles so the Screen is asked for few captures.
func (e *encoder) captureAreas(dst []image.Rectangle, region image.Rectangle) []image.Rectangle {
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; {
			i := ty*e.tw + tx
			if !e.cand[i] && e.known[i] {
				tx++
				continue
			}
			end := tx + 1
			for end < tx1 && (e.cand[ty*e.tw+end] || !e.known[ty*e.tw+end]) {
				end++
			}
			r := e.tile(tx, ty).Union(e.tile(end-1, ty))
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

// encode compares cur (the virtual screen's bounds; valid wherever captureAreas pointed) with
// what the viewer has, inside region, appends the rectangle messages to out and brings prev
// up to date. e.rects describes what was appended.
func (e *encoder) encode(cur *image.RGBA, region image.Rectangle, out []byte) []byte {
	e.rects = e.rects[:0]
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			switch {
			case !e.known[i]:
				e.dirty[i] = e.tile(tx, ty)
			case e.cand[i]:
				e.dirty[i] = changed(e.prev, cur, e.tile(tx, ty))
			default:
				e.dirty[i] = image.Rectangle{}
			}
		}
	}
	if e.caps&wire.CapCopy != 0 {
		out = e.encodeScrolls(cur, tx0, ty0, tx1, ty1, out)
	}
	for ty := ty0; ty < ty1; ty++ {
		out = e.encodeRow(cur, ty, tx0, tx1, out)
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			e.known[i], e.cand[i] = true, false
		}
	}
	return out
}

// encodeRow sends the dirty tiles of one tile row, merging neighbours: solid tiles of one
// colour whose boxes line up become one solid rectangle, other neighbours one pixel rectangle.
func (e *encoder) encodeRow(cur *image.RGBA, ty, tx0, tx1 int, out []byte) []byte {
	for tx := tx0; tx < tx1; {
		r := e.dirty[ty*e.tw+tx]
		if r.Empty() {
			tx++
			continue
		}
		c, isSolid := solid(cur, r)
		isSolid = isSolid && e.caps&wire.CapSolid != 0
		end := tx + 1
		for ; end < tx1; end++ {
			n := e.dirty[ty*e.tw+end]
			if n.Empty() || n.Union(r).Dx() > maxRunWidth {
				break
			}
			nc, nSolid := solid(cur, n)
			nSolid = nSolid && e.caps&wire.CapSolid != 0
			if isSolid != nSolid {
				break
			}
			if isSolid && (nc != c || n.Min.Y != r.Min.Y || n.Max.Y != r.Max.Y || n.Min.X != r.Max.X) {
				break
			}
			r = r.Union(n)
		}
		if isSolid {
			out = e.appendSolid(r, c, out)
		} else {
			out = e.appendPixels(cur, r, out)
		}
		tx = end
	}
	return out
}

func (e *encoder) appendSolid(r image.Rectangle, c [3]byte, out []byte) []byte {
	e.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncSolid, Data: c[:]}
	fill(e.prev, r, c)
	return e.appendMsg(r, "solid", out)
}

// appendPixels sends r as a palette when it has few colours, else as RGB; zstd-compressed
// unless compression does not pay.
func (e *encoder) appendPixels(cur *image.RGBA, r image.Rectangle, out []byte) []byte {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(rowBytes(e.prev, r.Min.X, r.Max.X, y), rowBytes(cur, r.Min.X, r.Max.X, y))
	}
	if e.caps&wire.CapPalette != 0 && e.pal.collect(cur, r) && e.pal.n >= 2 {
		e.pix = e.pal.pack(e.pix[:0], cur, r)
		e.pbuf = e.pal.appendRGB(e.pbuf[:0])
		e.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncPalette, Palette: e.pbuf, Data: e.pix}
		if e.caps&wire.CapZstd != 0 {
			if e.zbuf = e.zenc.EncodeAll(e.pix, e.zbuf[:0]); len(e.zbuf) < len(e.pix) {
				e.msg.Zstd, e.msg.Data = true, e.zbuf
			}
		}
		return e.appendMsg(r, "palette", out)
	}
	e.pix = packRGB(e.pix[:0], cur, r)
	e.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncRaw, Data: e.pix}
	name := "raw"
	if e.caps&wire.CapZstd != 0 {
		e.zbuf = e.zenc.EncodeAll(e.pix, e.zbuf[:0])
		if len(e.zbuf) < len(e.pix) {
			e.msg.Enc, e.msg.Data, name = wire.EncZstd, e.zbuf, "zstd"
		}
	}
	return e.appendMsg(r, name, out)
}

func (e *encoder) appendCopy(r image.Rectangle, src image.Point, out []byte) []byte {
	e.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncCopy, SrcX: int32(src.X), SrcY: int32(src.Y)}
	copyRect(e.prev, r, src)
	return e.appendMsg(r, "copy", out)
}

func (e *encoder) appendMsg(r image.Rectangle, enc string, out []byte) []byte {
	n := len(out)
	out = wire.Append(out, &e.msg)
	e.rects = append(e.rects, RectInfo{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy(), Enc: enc, Bytes: len(out) - n})
	return out
}
