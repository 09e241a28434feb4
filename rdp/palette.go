package rdp

import (
	"fmt"
	"image"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Palette encoding exists because of a measurement: on the desktop-like test frame (text and
// flat UI) raw RGB+zstd costs 98 KB for a full screen, about 28 bytes per glyph, since zstd can
// only match glyph rows (24 bytes) one at a time. Text and UI are drawn in a handful of colours;
// packed at 1 to 4 bits a pixel before zstd, the same frame costs far less (see
// BenchmarkEncode). Anti-aliased areas with more colours still go as RGB.

type palette struct {
	rgb [wire.MaxPalette]uint32
	n   int
}

func rgbKey(p []byte) uint32 { return uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2]) }

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

// collect fills p with the colours of r; false if there are more than wire.MaxPalette.
func (p *palette) collect(img *image.RGBA, r image.Rectangle) bool {
	p.n = 0
	last, lastOK := uint32(0), false
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		for i := 0; i+4 <= len(row); i += 4 {
			c := rgbKey(row[i:])
			if lastOK && c == last {
				continue
			}
			if p.index(c) < 0 {
				return false
			}
			last, lastOK = c, true
		}
	}
	return true
}

// pack appends the index rows of r to dst.
func (p *palette) pack(dst []byte, img *image.RGBA, r image.Rectangle) []byte {
	bits := wire.PaletteBits(p.n)
	perByte := 8 / bits
	last, lastIdx := uint32(1<<31), 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		var acc byte
		k := 0
		for i := 0; i+4 <= len(row); i += 4 {
			c := rgbKey(row[i:])
			if c != last {
				last, lastIdx = c, p.index(c)
			}
			acc = acc<<bits | byte(lastIdx)
			if k++; k == perByte {
				dst = append(dst, acc)
				acc, k = 0, 0
			}
		}
		if k > 0 {
			dst = append(dst, acc<<(bits*(perByte-k)))
		}
	}
	return dst
}

func (p *palette) appendRGB(dst []byte) []byte {
	for _, c := range p.rgb[:p.n] {
		dst = append(dst, byte(c>>16), byte(c>>8), byte(c))
	}
	return dst
}

// unpackPalette draws the index rows of a palette rectangle into img.
func unpackPalette(img *image.RGBA, r image.Rectangle, pal, packed []byte) error {
	n := len(pal) / 3
	bits := wire.PaletteBits(n)
	stride := (r.Dx()*bits + 7) / 8
	mask := byte(1<<bits - 1)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := packed[(y-r.Min.Y)*stride:]
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		for x := 0; x < r.Dx(); x++ {
			bit := x * bits
			idx := int(src[bit/8]>>(8-bits-bit%8)) & int(mask)
			if idx >= n {
				return fmt.Errorf("palette index %d of %d colours", idx, n)
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = pal[3*idx], pal[3*idx+1], pal[3*idx+2], 0xff
		}
	}
	return nil
}
