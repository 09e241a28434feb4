package rdp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Lossy encoding (protocol version 3, CapJPEG). Photo-like content that keeps changing — a
// video, an animation, a picture being dragged — costs a lossless encoder about its raw size
// (the bench's 640×360 video: 216 KB a frame, a second of the bad link). Such rectangles go as
// JPEG (Go's image/jpeg: no cgo, 4:2:0), a tenth of that, and are sent again exactly once they
// have been still for refineAfter, so nothing is left blurry: text and flat UI, which a palette
// or long runs of one colour give away, always go lossless.
//
// The encoder's mirror keeps the exact pixels of a lossy rectangle, and the tile remembers when
// it was last sent lossy (lossyAt); a tile sent lossy refineAfter ago is captured again, and if
// its pixels have not changed since, sent whole and lossless. A copy whose source is lossy
// passes that on.

// Quality is what the viewer asks of lossy encoding.
type Quality uint8

const (
	// QualityAuto lets the agent send moving photo-like content lossy when the link it
	// measures is slower than autoLossyBelow.
	QualityAuto Quality = wire.QualityAuto
	// QualitySharp is lossless only.
	QualitySharp Quality = wire.QualitySharp
	// QualityFast sends photo-like content lossy whatever the link.
	QualityFast Quality = wire.QualityFast
)

// ParseQuality reads "auto", "sharp" or "fast".
func ParseQuality(s string) (Quality, error) {
	switch s {
	case "auto", "":
		return QualityAuto, nil
	case "sharp":
		return QualitySharp, nil
	case "fast":
		return QualityFast, nil
	}
	return 0, fmt.Errorf("unknown quality %q (want auto, sharp or fast)", s)
}

func (q Quality) String() string {
	switch q {
	case QualitySharp:
		return "sharp"
	case QualityFast:
		return "fast"
	}
	return "auto"
}

const (
	// refineAfter is how long lossy pixels rest before their exact pixels are sent.
	refineAfter = 300 * time.Millisecond
	// autoLossyBelow is the link rate (bytes a second) under which QualityAuto goes lossy: a
	// link that carries a 1080p screen of video lossless 60 times a second does not need it.
	autoLossyBelow = 16e6
	// photoRunShare: a rectangle where at least this share of pixels equal their left
	// neighbour is UI or text (flat areas, glyphs on a background), not a photo.
	photoRunShare = 0.5
)

// lossyPolicy is what the encoder may do lossy in one encode.
type lossyPolicy struct {
	on      bool
	moving  bool // only tiles that changed lately, twice or more (QualityAuto)
	quality int  // JPEG quality, 1–100
}

// policyFor picks the policy for a mode and the link's measured rate (0: unknown).
func policyFor(q Quality, rate float64) lossyPolicy {
	switch {
	case q == QualitySharp:
		return lossyPolicy{}
	case q == QualityFast:
		return lossyPolicy{on: true, quality: 40}
	case rate <= 0 || rate >= autoLossyBelow:
		return lossyPolicy{}
	case rate < 500e3:
		return lossyPolicy{on: true, moving: true, quality: 35}
	case rate < 2e6:
		return lossyPolicy{on: true, moving: true, quality: 50}
	}
	return lossyPolicy{on: true, moving: true, quality: 65}
}

// lossyEligible reports whether tile i may go lossy in this encode.
func (e *encoder) lossyEligible(i int) bool {
	p := e.policy
	return p.on && !e.refine[i] && (!p.moving || e.moving(i))
}

// moving reports whether tile i changed twice or more lately (countStreaks).
func (e *encoder) moving(i int) bool { return e.streak[i] >= 2 }

// planRefinement runs before an encode's diff: the tiles of region sent lossy refineAfter ago
// are captured and, unless they changed (diffRow), sent exactly.
func (e *encoder) planRefinement(region image.Rectangle, now time.Time) {
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			e.refine[i] = false
			if at := e.lossyAt[i]; at != 0 && now.UnixNano()-at >= int64(refineAfter) {
				e.refine[i] = true
				e.cand[i] = e.tile(tx, ty)
			}
		}
	}
}

// refineTile makes tile i's dirty box the whole tile if it is due for refinement and did not
// change; a tile that changed again is sent as any change is (and may go lossy again).
func (e *encoder) refineTile(i int, tile image.Rectangle) {
	if !e.refine[i] {
		return
	}
	if e.dirty[i].Empty() {
		e.dirty[i] = tile
	} else {
		e.refine[i] = false
	}
}

// countStreaks counts, after an encode, how often each tile changed lately: one more for a
// change, and back to none once an encode finds it unchanged for longer than refineAfter (or
// refines it). An encode that finds it unchanged sooner says nothing of whether the film is
// still playing (the update came between two of its frames, or carried a cursor or a clock
// elsewhere). Halving the
// count on each such encode, as this did before, left a film whose frames alternated with
// another small change at a count of one before each of its frames, and each went lossless:
// 215 KB instead of 3 on deskbench's broadband video, the main cause of that cell's bytes
// varying from 1.8 to 8 KB an update from run to run. Nor may the time between changes end a
// streak: on a slow link a film's lossless frames come 200 ms to a second apart.
func (e *encoder) countStreaks(tx0, ty0, tx1, ty1 int) {
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			i := ty*e.tw + tx
			switch {
			case e.refine[i]: // sent again exactly because it rested
				e.streak[i] = 0
			case !e.dirty[i].Empty():
				e.streak[i] = min(e.streak[i], 254) + 1
				e.movedAt[i] = e.job.now
			case e.job.now-e.movedAt[i] > int64(refineAfter):
				e.streak[i] = 0
			}
		}
	}
}

// nextRefine is when the next refinement is due, if any tile is lossy.
func (e *encoder) nextRefine() (time.Time, bool) {
	var first int64
	for _, at := range e.lossyAt {
		if at != 0 && (first == 0 || at < first) {
			first = at
		}
	}
	if first == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, first).Add(refineAfter), true
}

// refineDue reports whether a tile of region is due for refinement.
func (e *encoder) refineDue(region image.Rectangle, now time.Time) bool {
	tx0, ty0, tx1, ty1 := e.tileSpan(region)
	for ty := ty0; ty < ty1; ty++ {
		for tx := tx0; tx < tx1; tx++ {
			if at := e.lossyAt[ty*e.tw+tx]; at != 0 && now.UnixNano()-at >= int64(refineAfter) {
				return true
			}
		}
	}
	return false
}

// markSent records that tiles [tx0, tx1) of row ty were sent in r: lossy (at now) or exact.
// A lossless r replaces a tile's lossy pixels only where it covers the whole tile.
func (e *encoder) markSent(r image.Rectangle, ty, tx0, tx1 int, lossy bool, now int64) {
	for tx := tx0; tx < tx1; tx++ {
		i := ty*e.tw + tx
		switch {
		case lossy:
			e.lossyAt[i] = now
		case e.tile(tx, ty).Intersect(e.job.region).In(r):
			e.lossyAt[i] = 0
		}
	}
}

// copyLossy passes lossy pixels on through a copy of src's rectangle to dst.
func (e *encoder) copyLossy(dst image.Rectangle, src image.Point, now int64) {
	sr := dst.Sub(dst.Min).Add(src)
	sx0, sy0, sx1, sy1 := e.tileSpan(sr)
	lossy := false
	for ty := sy0; ty < sy1 && !lossy; ty++ {
		for tx := sx0; tx < sx1; tx++ {
			if e.lossyAt[ty*e.tw+tx] != 0 {
				lossy = true
				break
			}
		}
	}
	if !lossy {
		return
	}
	dx0, dy0, dx1, dy1 := e.tileSpan(dst)
	for ty := dy0; ty < dy1; ty++ {
		for tx := dx0; tx < dx1; tx++ {
			e.lossyAt[ty*e.tw+tx] = now
		}
	}
}

// photoLike reports whether r of img looks like a photo rather than UI or text: few pixels
// equal their left neighbour.
func photoLike(img *image.RGBA, r image.Rectangle) bool {
	same, n := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		prev := binary.LittleEndian.Uint32(row) & 0xffffff
		for x := 4; x+4 <= len(row); x += 4 {
			c := binary.LittleEndian.Uint32(row[x:]) & 0xffffff
			if c == prev {
				same++
			}
			prev = c
			n++
		}
	}
	return n > 0 && float64(same) < photoRunShare*float64(n)
}

// appendLossy sends r as JPEG at quality q if it is photo-like and has more colours than a
// palette holds; otherwise as appendPixels does. It reports whether it went lossy.
func (c *rectCoder) appendLossy(cur *image.RGBA, r image.Rectangle, q int, o *rowOut) bool {
	if r.Dx() < 16 || r.Dy() < 16 || !photoLike(cur, r) {
		c.appendPixels(cur, r, o)
		return false
	}
	if c.caps&wire.CapPalette != 0 {
		var few bool
		if c.idx, few = c.pal.collect(c.idx, cur, r); few {
			c.appendPixels(cur, r, o)
			return false
		}
	}
	c.jbuf.Reset()
	if err := jpeg.Encode(&c.jbuf, cur.SubImage(r), &jpeg.Options{Quality: q}); err != nil {
		c.appendPixels(cur, r, o) // an RGBA image always encodes; lossless is the answer anyway
		return false
	}
	copyPixels(c.prev, cur, r)
	c.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncJPEG, Data: c.jbuf.Bytes()}
	c.appendMsg(r, "jpeg", o)
	return true
}

// decodeJPEG decodes a JPEG rectangle's data, which must be an image of exactly w×h: its size
// is read from the header before anything of the image is decoded.
func decodeJPEG(data []byte, w, h int) (image.Image, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("jpeg: %w", err)
	}
	if cfg.Width != w || cfg.Height != h {
		return nil, fmt.Errorf("jpeg of %dx%d in a %dx%d rectangle", cfg.Width, cfg.Height, w, h)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("jpeg: %w", err)
	}
	return img, nil
}

// drawJPEG draws a decoded JPEG rectangle at dst.
func drawJPEG(dstImg *image.RGBA, dst image.Rectangle, img image.Image) {
	draw.Draw(dstImg, dst, img, img.Bounds().Min, draw.Src)
}
