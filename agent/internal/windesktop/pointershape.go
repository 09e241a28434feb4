package windesktop

import (
	"fmt"
	"image"
	"image/color"
)

// DXGI_OUTDUPL_POINTER_SHAPE_TYPE.
const (
	shapeMonochrome  = 1
	shapeColor       = 2
	shapeMaskedColor = 4
)

// maxShape bounds a pointer shape's side; Windows' own limit is far below it.
const maxShape = 1024

// pointerImage turns a DXGI pointer shape into the premultiplied RGBA image rdp sends, with its
// hotspot. A viewer draws the cursor over the picture and cannot invert what lies beneath it,
// so pixels that invert the screen (the I-beam's, for one) are drawn opaque black.
//
//   - Monochrome: 1 bit a pixel, an AND mask over an XOR mask (so the height covers both).
//     AND 1, XOR 0: transparent; AND 0: black or white by XOR; AND 1, XOR 1: inverts.
//   - Color: 32-bit BGRA with straight alpha.
//   - Masked color: 32-bit BGR whose fourth byte is a mask: 0, the colour replaces the
//     screen; 0xFF, the colour is XORed onto it (black: transparent; otherwise it inverts).
func pointerImage(si pointerShapeInfo, buf []byte) (img *image.RGBA, hotX, hotY int, err error) {
	w, h, pitch := int(si.width), int(si.height), int(si.pitch)
	if si.typ == shapeMonochrome {
		h /= 2
	}
	if w <= 0 || h <= 0 || w > maxShape || h > maxShape {
		return nil, 0, 0, fmt.Errorf("pointer shape %d×%d (type %d) is out of range", si.width, si.height, si.typ)
	}
	rows, minPitch := h, w*4
	switch si.typ {
	case shapeMonochrome:
		rows, minPitch = 2*h, (w+7)/8
	case shapeColor, shapeMaskedColor:
	default:
		return nil, 0, 0, fmt.Errorf("unknown pointer shape type %d", si.typ)
	}
	if pitch < minPitch || pitch > 4*maxShape || len(buf) < (rows-1)*pitch+minPitch {
		return nil, 0, 0, fmt.Errorf("pointer shape %d×%d (type %d): pitch %d and %d bytes do not hold it", w, h, si.typ, pitch, len(buf))
	}
	img = image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, shapePixel(si.typ, buf, pitch, h, x, y))
		}
	}
	return img, min(max(int(si.hotX), 0), w-1), min(max(int(si.hotY), 0), h-1), nil
}

var (
	transparent = color.RGBA{0, 0, 0, 0}
	opaqueBlack = color.RGBA{0, 0, 0, 0xff}
	opaqueWhite = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

func shapePixel(typ uint32, buf []byte, pitch, h, x, y int) color.RGBA {
	switch typ {
	case shapeMonochrome:
		bit := byte(0x80) >> (x % 8)
		and, xor := buf[y*pitch+x/8]&bit != 0, buf[(y+h)*pitch+x/8]&bit != 0
		switch {
		case and && !xor:
			return transparent
		case !and && !xor:
			return opaqueBlack
		case !and && xor:
			return opaqueWhite
		}
		return opaqueBlack // inverts
	case shapeColor:
		p := buf[y*pitch+x*4:]
		a := uint16(p[3])
		return color.RGBA{byte(uint16(p[2]) * a / 255), byte(uint16(p[1]) * a / 255), byte(uint16(p[0]) * a / 255), byte(a)}
	}
	p := buf[y*pitch+x*4:]
	switch {
	case p[3] == 0:
		return color.RGBA{p[2], p[1], p[0], 0xff}
	case p[0]|p[1]|p[2] == 0:
		return transparent
	}
	return opaqueBlack // inverts
}

// iconShape lays a GDI cursor's bitmaps, read as 32-bit BGRA rows (the mask's pixels black or
// white), out as the DXGI shape they are: without a colour bitmap, the mask is the AND mask
// over the XOR mask (monochrome); with one, its alpha makes a colour shape, and without alpha
// the AND mask says which pixels XOR (masked colour). The hotspot is left to the caller.
func iconShape(mask []byte, mw, mh int, color []byte, cw, ch int) (pointerShapeInfo, []byte) {
	if color == nil {
		pitch := (mw + 7) / 8
		bits := make([]byte, pitch*mh)
		for y := range mh {
			for x := range mw {
				if mask[(y*mw+x)*4] != 0 {
					bits[y*pitch+x/8] |= 0x80 >> (x % 8)
				}
			}
		}
		return pointerShapeInfo{typ: shapeMonochrome, width: uint32(mw), height: uint32(mh), pitch: uint32(pitch)}, bits
	}
	si := pointerShapeInfo{typ: shapeColor, width: uint32(cw), height: uint32(ch), pitch: uint32(cw * 4)}
	for i := 3; i < len(color); i += 4 {
		if color[i] != 0 {
			return si, color
		}
	}
	si.typ = shapeMaskedColor
	for y := range min(ch, mh) {
		for x := range min(cw, mw) {
			if mask[(y*mw+x)*4] != 0 { // AND 1: the colour XORs onto the screen
				color[(y*cw+x)*4+3] = 0xff
			}
		}
	}
	return si, color
}
