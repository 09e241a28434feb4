package rdp

import (
	"bytes"
	"image"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// rectCoder turns rectangles of a capture into messages and applies them to the encoder's
// mirror. Each worker of the encoder has its own, so its scratch space is never shared; the
// rectangles that two coders handle at once lie in different tile rows, so their writes to
// prev never meet.
type rectCoder struct {
	caps   uint64
	prev   *image.RGBA
	zenc   *zstd.Encoder
	pal    palette
	pbuf   []byte       // palette colours scratch
	idx    []byte       // palette index per pixel scratch
	pix    []byte       // packed pixels scratch
	zbuf   []byte       // compressed scratch
	msg    wire.Rect    // reused so that encoding allocates nothing per rectangle
	col    [3]byte      // a solid's colour, which msg.Data slices
	solids []tileSolid  // encodeRow's scratch: per tile of the row
	jbuf   bytes.Buffer // a JPEG rectangle

	// diffRow's scratch: a tile row's captured tiles, their indices, their changed boxes.
	diffIn, diffOut  []image.Rectangle
	diffAt, diffOpen []int
}

// rowOut is what one tile row (or the scroll pass) appended: messages and their description.
type rowOut struct {
	buf   []byte
	rects []RectInfo
}

func (o *rowOut) reset() { o.buf, o.rects = o.buf[:0], o.rects[:0] }

func (c *rectCoder) appendSolid(r image.Rectangle, col [3]byte, o *rowOut) {
	c.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncSolid}
	c.col = col
	c.msg.Data = c.col[:]
	fill(c.prev, r, col)
	c.appendMsg(r, "solid", o)
}

// appendPixels sends r as a palette when it has few colours, else as RGB; zstd-compressed
// unless compression does not pay.
func (c *rectCoder) appendPixels(cur *image.RGBA, r image.Rectangle, o *rowOut) {
	ok := false
	if c.caps&wire.CapPalette != 0 {
		c.idx, ok = c.pal.collect(c.idx, cur, r)
	}
	if ok && c.pal.n >= 2 {
		copyPixels(c.prev, cur, r)
		c.pix = c.pal.pack(c.pix[:0], c.idx, r.Dx())
		c.pbuf = c.pal.appendRGB(c.pbuf[:0])
		c.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncPalette, Palette: c.pbuf, Data: c.pix}
		if c.caps&wire.CapZstd != 0 {
			if c.zbuf = c.zenc.EncodeAll(c.pix, c.zbuf[:0]); len(c.zbuf) < len(c.pix) {
				c.msg.Zstd, c.msg.Data = true, c.zbuf
			}
		}
		c.appendMsg(r, "palette", o)
		return
	}
	c.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncRaw}
	if c.caps&wire.CapZstd == 0 {
		// Raw (inside the stream, where nothing is compressed twice): the pixels are packed
		// straight into the message, not into scratch space and then copied.
		n := len(o.buf)
		o.buf = wire.Append(o.buf, &c.msg)
		o.buf = packRGBMirror(o.buf, cur, c.prev, r)
		wire.Refit(o.buf[n:])
		o.noteRect(r, "raw", n)
		return
	}
	c.pix = packRGBMirror(c.pix[:0], cur, c.prev, r)
	c.msg.Data = c.pix
	name := "raw"
	c.zbuf = c.zenc.EncodeAll(c.pix, c.zbuf[:0])
	if len(c.zbuf) < len(c.pix) {
		c.msg.Enc, c.msg.Data, name = wire.EncZstd, c.zbuf, "zstd"
	}
	c.appendMsg(r, name, o)
}

func (c *rectCoder) appendCopy(r image.Rectangle, src image.Point, o *rowOut) {
	c.msg = wire.Rect{X: int32(r.Min.X), Y: int32(r.Min.Y), W: uint32(r.Dx()), H: uint32(r.Dy()), Enc: wire.EncCopy, SrcX: int32(src.X), SrcY: int32(src.Y)}
	copyRect(c.prev, r, src)
	c.appendMsg(r, "copy", o)
}

func (c *rectCoder) appendMsg(r image.Rectangle, enc string, o *rowOut) {
	n := len(o.buf)
	o.buf = wire.Append(o.buf, &c.msg)
	o.noteRect(r, enc, n)
}

// noteRect describes the rectangle r that o.buf holds from n on, sent as enc.
func (o *rowOut) noteRect(r image.Rectangle, enc string, n int) {
	o.rects = append(o.rects, RectInfo{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy(), Enc: enc, Bytes: len(o.buf) - n})
}
