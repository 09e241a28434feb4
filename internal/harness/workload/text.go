package workload

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Anti-aliased text, as desktops draw it: real TrueType faces (the Go fonts, which ship inside
// the module) rasterised once per character into alpha masks, then blended between a text
// colour and its background, so a text area has dozens of grey levels at the glyphs' edges, not
// the two colours of a bitmap font.

// face is one font at one size: a mask per printable ASCII character.
type face struct {
	glyphs  [128]mask
	ascent  int
	advance [128]int
	height  int // line height
}

type mask struct {
	dx, dy int // offset of the mask's top-left from the pen position on the baseline
	w, h   int
	a      []byte
}

func newFace(ttf []byte, size float64) (*face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	ff, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("font face: %w", err)
	}
	defer ff.Close()
	m := ff.Metrics()
	fc := &face{ascent: m.Ascent.Ceil(), height: m.Height.Ceil() + 2}
	for r := rune(32); r < 127; r++ {
		dr, src, sp, adv, ok := ff.Glyph(fixed.Point26_6{}, r)
		fc.advance[r] = adv.Round()
		if !ok || dr.Empty() {
			continue
		}
		a := image.NewAlpha(image.Rect(0, 0, dr.Dx(), dr.Dy()))
		draw.Draw(a, a.Rect, src, sp, draw.Src)
		fc.glyphs[r] = mask{dx: dr.Min.X, dy: dr.Min.Y, w: dr.Dx(), h: dr.Dy(), a: a.Pix}
	}
	return fc, nil
}

// faces are the desktop's fonts: body text, window titles, terminal and code.
type faces struct {
	body, title, mono *face
}

func loadFaces() (*faces, error) {
	body, err := newFace(goregular.TTF, 13)
	if err != nil {
		return nil, err
	}
	title, err := newFace(gobold.TTF, 14)
	if err != nil {
		return nil, err
	}
	mono, err := newFace(gomono.TTF, 12)
	if err != nil {
		return nil, err
	}
	return &faces{body: body, title: title, mono: mono}, nil
}

// blend mixes fg over bg at alpha a (0–255), per channel.
func blend(fg, bg uint32, a byte) uint32 {
	if a == 0 {
		return bg
	}
	if a == 255 {
		return fg
	}
	var out uint32
	for s := 0; s < 24; s += 8 {
		f, b := int(fg>>s&0xff), int(bg>>s&0xff)
		out |= uint32(b+(f-b)*int(a)/255) << s
	}
	return out
}

// drawString draws s with its baseline at y starting at x, clipped to clip, over whatever is
// there (which must be bg for the blend to be right), and returns the pen's x after it.
func (c *canvas) drawString(fc *face, x, y int, s string, fg, bg uint32, clip image.Rectangle) int {
	clip = clip.Intersect(image.Rect(0, 0, c.w, c.h))
	var lut [256]uint32
	for i := range lut {
		lut[i] = blend(fg, bg, byte(i))
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 128 {
			ch = '?'
		}
		g := fc.glyphs[ch]
		// The glyph's mask clipped once, then blended a row at a time.
		gr := image.Rect(x+g.dx, y+g.dy, x+g.dx+g.w, y+g.dy+g.h).Intersect(clip)
		for py := gr.Min.Y; py < gr.Max.Y; py++ {
			gy := py - (y + g.dy)
			row := g.a[gy*g.w+gr.Min.X-(x+g.dx) : gy*g.w+gr.Max.X-(x+g.dx)]
			out := c.pix[(py*c.w+gr.Min.X)*4 : (py*c.w+gr.Max.X)*4]
			for i, a := range row {
				if a != 0 {
					binary.LittleEndian.PutUint32(out[4*i:], lut[a])
				}
			}
		}
		x += fc.advance[ch]
		if x >= clip.Max.X {
			break
		}
	}
	return x
}

// width is the advance of s in fc.
func (fc *face) width(s string) int {
	w := 0
	for i := 0; i < len(s); i++ {
		if s[i] < 128 {
			w += fc.advance[s[i]]
		}
	}
	return w
}
