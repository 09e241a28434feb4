package rdp

import (
	"bytes"
	"encoding/binary"
	"image"
	"slices"
)

// Pixel helpers shared by the agent's encoder and the viewer's decoder. Both keep an
// *image.RGBA whose bounds are the virtual screen; the wire carries RGB (3 bytes a pixel).

// rowBytes returns the bytes of row y between x0 and x1.
func rowBytes(img *image.RGBA, x0, x1, y int) []byte {
	i := img.PixOffset(x0, y)
	return img.Pix[i : i+(x1-x0)*4]
}

// packRGB appends the RGB bytes of r to dst, four pixels at a time where it can: 16 bytes of
// RGBA read as two words, 12 bytes of RGB written as two (a byte at a time, this took a tenth of
// the agent's time on full-screen changes).
func packRGB(dst []byte, img *image.RGBA, r image.Rectangle) []byte {
	return packRGBMirror(dst, img, nil, r)
}

// packRGBMirror is packRGB that also copies each row of r from img to mirror (unless nil) right
// after packing it, while the row is in the cache: the encoder brings its mirror of the viewer's
// image up to date so, in one pass over the rows instead of two.
func packRGBMirror(dst []byte, img, mirror *image.RGBA, r image.Rectangle) []byte {
	n := len(dst)
	dst = slices.Grow(dst, r.Dx()*r.Dy()*3)[:n+r.Dx()*r.Dy()*3]
	out := dst[n:]
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		i := 0
		for ; i+16 <= len(row) && len(out) >= 12; i += 16 {
			a, b := binary.LittleEndian.Uint64(row[i:]), binary.LittleEndian.Uint64(row[i+8:])
			// a: R0 G0 B0 A0 R1 G1 B1 A1; b: R2 G2 B2 A2 R3 G3 B3 A3 (low byte first).
			binary.LittleEndian.PutUint64(out, a&0xffffff|a>>8&0xffffff000000|b<<48)
			binary.LittleEndian.PutUint32(out[8:], uint32(b>>16&0xff|b>>24&0xffffff00))
			out = out[12:]
		}
		for ; i+4 <= len(row); i += 4 {
			out[0], out[1], out[2] = row[i], row[i+1], row[i+2]
			out = out[3:]
		}
		if mirror != nil {
			copy(rowBytes(mirror, r.Min.X, r.Max.X, y), row)
		}
	}
	return dst
}

// unpackRGB writes RGB bytes (exactly r's size) into r, with opaque alpha, four pixels at a
// time where it can (a byte at a time, this was 40% of the viewer's time on full-screen
// changes).
func unpackRGB(img *image.RGBA, r image.Rectangle, src []byte) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		i := 0
		for ; i+16 <= len(row) && len(src) >= 12; i += 16 {
			// a: R0 G0 B0 R1 G1 B1 R2 G2; b: B2 R3 G3 B3 (low byte first).
			a, b := binary.LittleEndian.Uint64(src), uint64(binary.LittleEndian.Uint32(src[8:]))
			const opaque = 0xff000000_ff000000
			binary.LittleEndian.PutUint64(row[i:], a&0xffffff|a<<8&0xffffff_00000000|opaque)
			binary.LittleEndian.PutUint64(row[i+8:], a>>48|b<<16&0xff0000|b<<24&0xffffff_00000000|opaque)
			src = src[12:]
		}
		for ; i+4 <= len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = src[0], src[1], src[2], 0xff
			src = src[3:]
		}
	}
}

// fill paints r with one RGB colour: the first row by doubling copies (log(n) calls), every
// other row as one copy of the first.
func fill(img *image.RGBA, r image.Rectangle, c [3]byte) {
	if r.Empty() {
		return
	}
	px := [4]byte{c[0], c[1], c[2], 0xff}
	first := rowBytes(img, r.Min.X, r.Max.X, r.Min.Y)
	copy(first, px[:])
	for n := 4; n < len(first); n *= 2 {
		copy(first[n:], first[:n])
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		copy(rowBytes(img, r.Min.X, r.Max.X, y), first)
	}
}

// solid reports whether every pixel of r has the same RGB, and which. Alpha is ignored: the
// wire carries none. After the first row, a row equal byte for byte to it (the usual case:
// captures are opaque) is one memory compare.
func solid(img *image.RGBA, r image.Rectangle) ([3]byte, bool) {
	first := rowBytes(img, r.Min.X, r.Max.X, r.Min.Y)
	c := [3]byte{first[0], first[1], first[2]}
	want := binary.LittleEndian.Uint32(first) & 0xffffff
	if !solidRow(first, want) {
		return c, false
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		if !bytes.Equal(row, first) && !solidRow(row, want) {
			return c, false
		}
	}
	return c, true
}

// solidRow reports whether every pixel of row has the RGB want (low 24 bits, R lowest).
func solidRow(row []byte, want uint32) bool {
	want2 := uint64(want) | uint64(want)<<32
	i := 0
	for ; i+8 <= len(row); i += 8 {
		if binary.LittleEndian.Uint64(row[i:])&0x00ffffff_00ffffff != want2 {
			return false
		}
	}
	return i == len(row) || binary.LittleEndian.Uint32(row[i:])&0xffffff == want
}

// copyRect copies the rectangle of dst's size from src (top-left) to dst within one image,
// as if through a temporary buffer: rows are walked in the order that reads each source row
// before it is overwritten.
func copyRect(img *image.RGBA, dst image.Rectangle, src image.Point) {
	h := dst.Dy()
	copyRow := func(i int) {
		copy(rowBytes(img, dst.Min.X, dst.Max.X, dst.Min.Y+i), rowBytes(img, src.X, src.X+dst.Dx(), src.Y+i))
	}
	if src.Y < dst.Min.Y {
		for i := h - 1; i >= 0; i-- {
			copyRow(i)
		}
		return
	}
	for i := 0; i < h; i++ {
		copyRow(i)
	}
}

// changed returns the bounding box of the pixels of r that differ between a and b, or an empty
// rectangle. It reads as little as the box allows: the first differing row from the top, the
// last from the bottom, then the rows between only outside the box found so far, and none once
// the box is r's full width. A tile whose content changed whole (a moved window) costs a few
// rows, not all of them; an unchanged one costs one compare of each row.
func changed(a, b *image.RGBA, r image.Rectangle) image.Rectangle {
	y0 := r.Min.Y
	for y0 < r.Max.Y && bytes.Equal(rowBytes(a, r.Min.X, r.Max.X, y0), rowBytes(b, r.Min.X, r.Max.X, y0)) {
		y0++
	}
	if y0 == r.Max.Y {
		return image.Rectangle{}
	}
	y1 := r.Max.Y - 1
	for y1 > y0 && bytes.Equal(rowBytes(a, r.Min.X, r.Max.X, y1), rowBytes(b, r.Min.X, r.Max.X, y1)) {
		y1--
	}
	return narrow(a, b, r, y0, y1)
}

// narrow returns the box of the pixels of r that differ between a and b, given that rows y0
// and y1 (y0 ≤ y1) are the first and the last that do: it reads the rows between only left and
// right of the box found so far.
func narrow(a, b *image.RGBA, r image.Rectangle, y0, y1 int) image.Rectangle {
	x0, x1 := r.Max.X, r.Min.X // the box's columns so far: none
	for y := y0; y <= y1 && (x0 > r.Min.X || x1 < r.Max.X); y++ {
		ra, rb := rowBytes(a, r.Min.X, r.Max.X, y), rowBytes(b, r.Min.X, r.Max.X, y)
		// Only left of the box and right of it can this row widen it.
		if l := (x0 - r.Min.X) * 4; !bytes.Equal(ra[:l], rb[:l]) {
			for i := 0; i < l; i += 4 {
				if binary.LittleEndian.Uint32(ra[i:]) != binary.LittleEndian.Uint32(rb[i:]) {
					x0 = r.Min.X + i/4
					break
				}
			}
		}
		if k := max(x1-r.Min.X, x0-r.Min.X) * 4; !bytes.Equal(ra[k:], rb[k:]) {
			for i := len(ra) - 4; i >= k; i -= 4 {
				if binary.LittleEndian.Uint32(ra[i:]) != binary.LittleEndian.Uint32(rb[i:]) {
					x1 = r.Min.X + i/4 + 1
					break
				}
			}
		}
	}
	return image.Rect(x0, y0, x1, y1+1)
}

// changedTiles sets out[k] to changed(a, b, rs[k]) for rectangles that share their rows (the
// tiles of one tile row, in order left to right), reading the rows across all of them at once:
// row by row, each row's segments one after another, rather than one tile's rows at a time,
// whose rows lie a screen's width apart and each cost a wait for memory. open is scratch.
func changedTiles(a, b *image.RGBA, rs, out []image.Rectangle, open []int) []int {
	if len(rs) == 0 {
		return open
	}
	ymin, ymax := rs[0].Min.Y, rs[0].Max.Y
	// From the top: the first row in which each tile differs.
	open = open[:0]
	for k := range rs {
		open = append(open, k)
		out[k] = image.Rectangle{}
	}
	for y := ymin; y < ymax && len(open) > 0; y++ {
		n := 0
		for s := 0; s < len(open); {
			// A run of open tiles side by side is compared whole first: on an unchanged part of
			// the screen one compare of the row, not one a tile.
			e := s + 1
			for e < len(open) && open[e] == open[e-1]+1 && rs[open[e]].Min.X == rs[open[e-1]].Max.X {
				e++
			}
			if x0, x1 := rs[open[s]].Min.X, rs[open[e-1]].Max.X; e-s > 1 && bytes.Equal(rowBytes(a, x0, x1, y), rowBytes(b, x0, x1, y)) {
				n += copy(open[n:], open[s:e])
				s = e
				continue
			}
			for _, k := range open[s:e] {
				r := rs[k]
				if bytes.Equal(rowBytes(a, r.Min.X, r.Max.X, y), rowBytes(b, r.Min.X, r.Max.X, y)) {
					open[n] = k
					n++
				} else {
					// Found: Max.Y = -1 marks it (a tile not found stays the zero rectangle, and
					// a found one's box is made below), the last row is still to find.
					out[k] = image.Rectangle{Min: image.Pt(0, y), Max: image.Pt(0, -1)}
				}
			}
			s = e
		}
		open = open[:n]
	}
	// From the bottom: the last row in which each tile that differs does.
	open = open[:0]
	for k := range rs {
		if out[k].Max.Y == -1 {
			open = append(open, k)
		}
	}
	for y := ymax - 1; len(open) > 0; y-- {
		n := 0
		for _, k := range open {
			r := rs[k]
			if y > out[k].Min.Y && bytes.Equal(rowBytes(a, r.Min.X, r.Max.X, y), rowBytes(b, r.Min.X, r.Max.X, y)) {
				open[n] = k
				n++
			} else {
				out[k] = narrow(a, b, r, out[k].Min.Y, y)
			}
		}
		open = open[:n]
	}
	return open
}

// copyPixels copies the pixels of r from src to dst, two images that both hold r.
func copyPixels(dst, src *image.RGBA, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(rowBytes(dst, r.Min.X, r.Max.X, y), rowBytes(src, r.Min.X, r.Max.X, y))
	}
}

// subImageInto sets dst to share img's pixels for r but with bounds (0,0)-(w,h), as
// Screen.Capture wants its destination.
func subImageInto(dst, img *image.RGBA, r image.Rectangle) *image.RGBA {
	i := img.PixOffset(r.Min.X, r.Min.Y)
	end := i + (r.Dy()-1)*img.Stride + r.Dx()*4
	*dst = image.RGBA{Pix: img.Pix[i:end:end], Stride: img.Stride, Rect: image.Rect(0, 0, r.Dx(), r.Dy())}
	return dst
}
