package rdp

import (
	"encoding/binary"
	"fmt"
	"image"
	"slices"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Palette encoding exists because of a measurement: on the desktop-like test frame (text and
// flat UI) raw RGB+zstd costs 98 KB for a full screen, about 28 bytes per glyph, since zstd can
// only match glyph rows (24 bytes) one at a time. Text and UI are drawn in a handful of colours;
// packed at 1 to 4 bits a pixel before zstd, the same frame costs far less (see
// BenchmarkEncode). Anti-aliased areas with more colours still go as RGB.

// palette holds a rectangle's colours as the low 24 bits of the little-endian load of an RGBA
// pixel: R in bits 0–7, G 8–15, B 16–23.
type palette struct {
	rgb [wire.MaxPalette]uint32
	n   int
}

// index returns the palette index of c, adding it; -1 once the palette is full.
func (p *palette) index(c uint32) int {
	for i := 0; i < p.n; i++ {
		if p.rgb[i] == c {
			return i
		}
	}
	if p.n == len(p.rgb) {
		return -1
	}
	p.rgb[p.n] = c
	p.n++
	return p.n - 1
}

// collect fills p with the colours of r and idx with one palette index per pixel; false if
// there are more than wire.MaxPalette colours. Runs of one colour (most of a flat UI or a text
// background) cost one compare a pixel.
func (p *palette) collect(idx []byte, img *image.RGBA, r image.Rectangle) ([]byte, bool) {
	p.n = 0
	w := r.Dx()
	idx = slices.Grow(idx[:0], w*r.Dy())[:w*r.Dy()]
	last, lastIdx := uint32(1<<31), byte(0)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		out := idx[(y-r.Min.Y)*w : (y-r.Min.Y+1)*w]
		x := 0
		for ; x+2 <= len(out); x += 2 {
			// Two pixels a load: both of the last colour is the common case.
			v := binary.LittleEndian.Uint64(row[4*x:]) & 0x00ffffff_00ffffff
			if v == uint64(last)|uint64(last)<<32 {
				out[x], out[x+1] = lastIdx, lastIdx
				continue
			}
			for k, c := range [2]uint32{uint32(v), uint32(v >> 32)} {
				if c != last {
					i := p.index(c)
					if i < 0 {
						return idx, false
					}
					last, lastIdx = c, byte(i)
				}
				out[x+k] = lastIdx
			}
		}
		if x < len(out) {
			if c := binary.LittleEndian.Uint32(row[4*x:]) & 0xffffff; c != last {
				i := p.index(c)
				if i < 0 {
					return idx, false
				}
				last, lastIdx = c, byte(i)
			}
			out[x] = lastIdx
		}
	}
	return idx, true
}

// pack appends the index rows (w indices each) packed at the palette's bits per pixel.
func (p *palette) pack(dst, idx []byte, w int) []byte {
	bits := wire.PaletteBits(p.n)
	stride := (w*bits + 7) / 8
	h := len(idx) / w
	n := len(dst)
	dst = slices.Grow(dst, stride*h)[:n+stride*h]
	for y := 0; y < h; y++ {
		packRow(dst[n+y*stride:n+(y+1)*stride], idx[y*w:(y+1)*w], bits)
	}
	return dst
}

// packRow packs one row of indices into out (⌈len(row)×bits/8⌉ bytes), leftmost pixel in the
// high bits, the last byte padded with zeros.
func packRow(out, row []byte, bits int) {
	perByte := 8 / bits
	full := len(row) / perByte
	switch bits {
	case 1:
		for i := range full {
			v := binary.BigEndian.Uint64(row[8*i:]) // pixel 0 in the top byte
			// Each byte is 0 or 1: gather bit 0 of every byte into the top byte, pixel 0 highest.
			out[i] = byte((v * 0x102040810204080) >> 56)
		}
	case 2:
		for i := range full {
			q := row[4*i : 4*i+4]
			out[i] = q[0]<<6 | q[1]<<4 | q[2]<<2 | q[3]
		}
	default:
		for i := range full {
			out[i] = row[2*i]<<4 | row[2*i+1]
		}
	}
	if rest := row[full*perByte:]; len(rest) > 0 {
		var acc byte
		for _, v := range rest {
			acc = acc<<bits | v
		}
		out[full] = acc << (bits * (perByte - len(rest)))
	}
}

func (p *palette) appendRGB(dst []byte) []byte {
	for _, c := range p.rgb[:p.n] {
		dst = append(dst, byte(c), byte(c>>8), byte(c>>16))
	}
	return dst
}

// unpackPalette draws the index rows of a palette rectangle into img. Each packed byte is
// spread with a specialised loop per bit width; an index ≥ n looks up a colour with bit 32 set,
// which is caught once a row instead of once a pixel.
func unpackPalette(img *image.RGBA, r image.Rectangle, pal, packed []byte) error {
	n := len(pal) / 3
	bits := wire.PaletteBits(n)
	stride := (r.Dx()*bits + 7) / 8
	perByte := 8 / bits
	var colours [wire.MaxPalette]uint64
	for i := range colours {
		colours[i] = 1 << 32 // not a colour: an index ≥ n
	}
	for i := range n {
		colours[i] = uint64(binary.LittleEndian.Uint32([]byte{pal[3*i], pal[3*i+1], pal[3*i+2], 0xff}))
	}
	w := r.Dx()
	full := w / perByte
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := packed[(y-r.Min.Y)*stride : (y-r.Min.Y+1)*stride]
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		var bad uint64
		switch bits {
		case 1:
			c0, c1 := uint32(colours[0]), uint32(colours[1])
			for i, b := range src[:full] {
				o := row[32*i : 32*i+32]
				for k := range 8 {
					c := c0
					if b&(0x80>>k) != 0 {
						c = c1
					}
					binary.LittleEndian.PutUint32(o[4*k:], c)
				}
			}
		case 2:
			for i, b := range src[:full] {
				o := row[16*i : 16*i+16]
				c0, c1, c2, c3 := colours[b>>6], colours[b>>4&3], colours[b>>2&3], colours[b&3]
				bad |= c0 | c1 | c2 | c3
				binary.LittleEndian.PutUint64(o, c0|c1<<32)
				binary.LittleEndian.PutUint64(o[8:], c2|c3<<32)
			}
		default:
			for i, b := range src[:full] {
				c0, c1 := colours[b>>4], colours[b&15]
				bad |= c0 | c1
				binary.LittleEndian.PutUint64(row[8*i:], c0|c1<<32)
			}
		}
		if x := full * perByte; x < w {
			b := src[full]
			for ; x < w; x++ {
				c := colours[b>>(8-bits)]
				b <<= bits
				bad |= c
				binary.LittleEndian.PutUint32(row[4*x:], uint32(c))
			}
		}
		if bad>>32 != 0 {
			return fmt.Errorf("palette index of %d colours out of range", n)
		}
	}
	return nil
}
