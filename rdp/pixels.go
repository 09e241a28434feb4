package rdp

import (
	"bytes"
	"encoding/binary"
	"image"
)

// Pixel helpers shared by the agent's encoder and the viewer's decoder. Both keep an
// *image.RGBA whose bounds are the virtual screen; the wire carries RGB (3 bytes a pixel).

// rowBytes returns the bytes of row y between x0 and x1.
func rowBytes(img *image.RGBA, x0, x1, y int) []byte {
	i := img.PixOffset(x0, y)
	return img.Pix[i : i+(x1-x0)*4]
}

// packRGB appends the RGB bytes of r to dst.
func packRGB(dst []byte, img *image.RGBA, r image.Rectangle) []byte {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		for i := 0; i+4 <= len(row); i += 4 {
			dst = append(dst, row[i], row[i+1], row[i+2])
		}
	}
	return dst
}

// unpackRGB writes RGB bytes (exactly r's size) into r, with opaque alpha.
func unpackRGB(img *image.RGBA, r image.Rectangle, src []byte) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := rowBytes(img, r.Min.X, r.Max.X, y)
		for i := 0; i+4 <= len(row); i += 4 {
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
// rectangle.
func changed(a, b *image.RGBA, r image.Rectangle) image.Rectangle {
	x0, x1, y0, y1 := r.Max.X, r.Min.X, 0, 0
	found := false
	for y := r.Min.Y; y < r.Max.Y; y++ {
		ra, rb := rowBytes(a, r.Min.X, r.Max.X, y), rowBytes(b, r.Min.X, r.Max.X, y)
		if bytes.Equal(ra, rb) {
			continue
		}
		if !found {
			y0, found = y, true
		}
		y1 = y + 1
		// Narrow only where this row can widen the box found so far.
		for i := 0; i < (x0-r.Min.X)*4; i += 4 {
			if binary.LittleEndian.Uint32(ra[i:]) != binary.LittleEndian.Uint32(rb[i:]) {
				x0 = r.Min.X + i/4
				break
			}
		}
		for i := len(ra) - 4; i >= (x1-r.Min.X)*4; i -= 4 {
			if binary.LittleEndian.Uint32(ra[i:]) != binary.LittleEndian.Uint32(rb[i:]) {
				x1 = r.Min.X + i/4 + 1
				break
			}
		}
	}
	if !found {
		return image.Rectangle{}
	}
	return image.Rect(x0, y0, x1, y1)
}

// subImage returns an image sharing img's pixels for r but with bounds (0,0)-(w,h), as
// Screen.Capture wants its destination.
func subImage(img *image.RGBA, r image.Rectangle) *image.RGBA {
	i := img.PixOffset(r.Min.X, r.Min.Y)
	end := i + (r.Dy()-1)*img.Stride + r.Dx()*4
	return &image.RGBA{Pix: img.Pix[i:end:end], Stride: img.Stride, Rect: image.Rect(0, 0, r.Dx(), r.Dy())}
}
