package xvfb

import (
	"encoding/binary"
	"fmt"
	"image"
	"os/exec"
)

// Screenshot takes the X server's own picture of the root window with xwd (package x11-apps), the
// reference that captures and snapshots are compared with.
func Screenshot(display string) (*image.RGBA, error) {
	out, err := exec.Command("xwd", "-display", display, "-root", "-silent").Output()
	if err != nil {
		return nil, fmt.Errorf("xwd (package x11-apps; scripts/deps.sh installs it): %w", err)
	}
	img, err := ParseXWD(out)
	if err != nil {
		return nil, fmt.Errorf("parse xwd output: %w", err)
	}
	return img, nil
}

// ParseXWD reads the ZPixmap, 32 bits-per-pixel TrueColor dumps that xwd writes of a 24-bit
// screen: a header of big-endian 32-bit fields, the window name, the colour map, the pixels.
func ParseXWD(b []byte) (*image.RGBA, error) {
	if len(b) < 100 {
		return nil, fmt.Errorf("short header")
	}
	f := func(i int) int { return int(binary.BigEndian.Uint32(b[4*i:])) }
	headerSize, format, w, h := f(0), f(2), f(4), f(5)
	byteOrder, bpp, stride, ncolors := f(7), f(11), f(12), f(19)
	redMask, greenMask, blueMask := f(14), f(15), f(16)
	if format != 2 || bpp != 32 || redMask != 0xff0000 || greenMask != 0xff00 || blueMask != 0xff {
		return nil, fmt.Errorf("unexpected format %d, %d bpp, masks %x %x %x", format, bpp, redMask, greenMask, blueMask)
	}
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 || stride < 4*w || headerSize < 100 || ncolors < 0 || ncolors > 1<<16 {
		return nil, fmt.Errorf("implausible header: %dx%d stride %d", w, h, stride)
	}
	off := headerSize + ncolors*12
	if len(b) < off+stride*h {
		return nil, fmt.Errorf("short pixel data")
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := b[off+y*stride+x*4:]
			var v uint32
			if byteOrder == 0 {
				v = binary.LittleEndian.Uint32(p)
			} else {
				v = binary.BigEndian.Uint32(p)
			}
			o := y*img.Stride + x*4
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = byte(v>>16), byte(v>>8), byte(v), 0xff
		}
	}
	return img, nil
}
