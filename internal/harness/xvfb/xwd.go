package xvfb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"os/exec"
)

// Screenshot takes the X server's own picture of the root window with xwd (package x11-apps), the
// reference that captures and snapshots are compared with. When a window of another visual is on
// the screen, xwd composes the picture window by window, and a window that goes away meanwhile
// (a program that just exited) fails it with an X protocol error: such a try is repeated a few
// times, each on the screen as it is then.
func Screenshot(display string) (*image.RGBA, error) {
	const tries = 5
	var err error
	for range tries {
		var out []byte
		out, err = exec.Command("xwd", "-display", display, "-root", "-silent").Output()
		if err == nil {
			img, err := ParseXWD(out)
			if err != nil {
				return nil, fmt.Errorf("parse xwd output: %w", err)
			}
			return img, nil
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			break
		}
		err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(exit.Stderr))
		if !bytes.Contains(exit.Stderr, []byte("X Error of failed request")) {
			break
		}
	}
	return nil, fmt.Errorf("xwd (package x11-apps; scripts/deps.sh installs it): %w", err)
}

// ParseXWD reads the ZPixmap TrueColor dumps that xwd writes of a 24-bit screen: a header of
// big-endian 32-bit fields, the window name, the colour map, the pixels. The pixels are 32 bits
// each, as the X server keeps them, unless a window on the screen has a visual other than the
// root's (Wine's Direct3D windows do): then xwd composes the picture itself and writes 24-bit
// pixels, in rows as long as the 32-bit ones.
func ParseXWD(b []byte) (*image.RGBA, error) {
	if len(b) < 100 {
		return nil, fmt.Errorf("short header")
	}
	f := func(i int) int { return int(binary.BigEndian.Uint32(b[4*i:])) }
	headerSize, format, w, h := f(0), f(2), f(4), f(5)
	byteOrder, bpp, stride, ncolors := f(7), f(11), f(12), f(19)
	redMask, greenMask, blueMask := f(14), f(15), f(16)
	if format != 2 || bpp != 32 && bpp != 24 || redMask != 0xff0000 || greenMask != 0xff00 || blueMask != 0xff {
		return nil, fmt.Errorf("unexpected format %d, %d bpp, masks %x %x %x", format, bpp, redMask, greenMask, blueMask)
	}
	size := bpp / 8
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 || stride < size*w || headerSize < 100 || ncolors < 0 || ncolors > 1<<16 {
		return nil, fmt.Errorf("implausible header: %dx%d stride %d", w, h, stride)
	}
	off := headerSize + ncolors*12
	if len(b) < off+stride*h {
		return nil, fmt.Errorf("short pixel data")
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := b[off+y*stride:]
		for x := 0; x < w; x++ {
			var v uint32
			for i, c := range row[x*size : (x+1)*size] {
				if byteOrder == 0 {
					v |= uint32(c) << (8 * i)
				} else {
					v = v<<8 | uint32(c)
				}
			}
			o := y*img.Stride + x*4
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = byte(v>>16), byte(v>>8), byte(v), 0xff
		}
	}
	return img, nil
}
