package rdp

import (
	"encoding/binary"
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

// collect fills p with the colours of r and idx with one palette index per pixel; false if
// there are more than wire.MaxPalette colours.
func (p *palette) collect(idx []byte, img *image.RGBA, r image.Rectangle) ([]byte, bool) {
	p.n = 0
	idx = idx[:0]
	last, lastIdx := uint32(1<<31), byte(0)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		for i := 0; i+4 <= len(row); i += 4 {
			if c := rgbKey(row[i:]); c != last {
				k := p.index(c)
				if k < 0 {
					return idx, false
				}
				last, lastIdx = c, byte(k)
			}
			idx = append(idx, lastIdx)
		}
	}
	return idx, true
}

// pack appends the index rows (w indices each) packed at the palette's bits per pixel.
func (p *palette) pack(dst, idx []byte, w int) []byte {
	bits := wire.PaletteBits(p.n)
	perByte := 8 / bits
	for len(idx) > 0 {
		row := idx[:w]
		idx = idx[w:]
		for len(row) >= perByte {
			var acc byte
			for _, v := range row[:perByte] {
				acc = acc<<bits | v
			}
			dst = append(dst, acc)
			row = row[perByte:]
		}
		if len(row) > 0 {
			var acc byte
			for _, v := range row {
				acc = acc<<bits | v
			}
			dst = append(dst, acc<<(bits*(perByte-len(row))))
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
	perByte := 8 / bits
	mask := byte(1<<bits - 1)
	var colours [wire.MaxPalette]uint32
	for i := range n {
		colours[i] = binary.LittleEndian.Uint32([]byte{pal[3*i], pal[3*i+1], pal[3*i+2], 0xff})
	}
	w := r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := packed[(y-r.Min.Y)*stride : (y-r.Min.Y+1)*stride]
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		x := 0
		for _, b := range src {
			for k := 0; k < perByte && x < w; k++ {
				v := b >> (8 - bits) & mask
				b <<= bits
				if int(v) >= n {
					return fmt.Errorf("palette index %d of %d colours", v, n)
				}
				binary.LittleEndian.PutUint32(row[4*x:], colours[v])
				x++
			}
		}
	}
	return nil
}
