package workload

import (
	"encoding/binary"
	"math/rand/v2"
)

// canvas is a packed 32-bit BGRX image, the X server's layout for 24-bit TrueColor.
type canvas struct {
	w, h int
	pix  []byte
}

func newCanvas(w, h int) *canvas { return &canvas{w: w, h: h, pix: make([]byte, w*h*4)} }

// rgb packs a colour as the 32-bit little-endian BGRX word.
func rgb(r, g, b uint8) uint32 { return uint32(r)<<16 | uint32(g)<<8 | uint32(b) }

func (c *canvas) set(x, y int, col uint32) {
	binary.LittleEndian.PutUint32(c.pix[(y*c.w+x)*4:], col)
}

// fill paints a rectangle, clipped to the canvas.
func (c *canvas) fill(x0, y0, w, h int, col uint32) {
	x1, y1 := min(x0+w, c.w), min(y0+h, c.h)
	x0, y0 = max(x0, 0), max(y0, 0)
	if x0 >= x1 {
		return
	}
	var word [4]byte
	binary.LittleEndian.PutUint32(word[:], col)
	for y := y0; y < y1; y++ {
		row := c.pix[(y*c.w+x0)*4 : (y*c.w+x1)*4]
		copy(row, word[:])
		for n := 4; n < len(row); n *= 2 { // doubling copies: a row in log2(w) memmoves
			copy(row[n:], row[:n])
		}
	}
}

// Glyphs are 8×16 cells. Each printable character gets a fixed, text-like bitmap made of a few
// strokes (stems, bars, bowls, ascender, descender) chosen from a hash of the character, so
// rows of them look and compress like text without shipping a font.
const glyphW, glyphH = 8, 16

type glyph [glyphH]uint8

var strokes = []glyph{
	{5: 0x40, 6: 0x40, 7: 0x40, 8: 0x40, 9: 0x40, 10: 0x40, 11: 0x40}, // left stem
	{5: 0x04, 6: 0x04, 7: 0x04, 8: 0x04, 9: 0x04, 10: 0x04, 11: 0x04}, // right stem
	{5: 0x7c},                      // top bar
	{8: 0x7c},                      // middle bar
	{11: 0x7c},                     // bottom bar
	{2: 0x40, 3: 0x40, 4: 0x40},    // ascender
	{12: 0x04, 13: 0x04, 14: 0x38}, // descender
	{6: 0x38, 7: 0x44, 8: 0x44, 9: 0x44, 10: 0x38},                            // bowl
	{5: 0x04, 6: 0x08, 7: 0x08, 8: 0x10, 9: 0x20, 10: 0x20, 11: 0x40},         // diagonal
	{2: 0x10, 3: 0x10, 4: 0x10, 5: 0x10, 6: 0x10, 7: 0x10, 8: 0x10, 11: 0x10}, // mark
}

func glyphFor(ch byte) glyph {
	var g glyph
	if ch == ' ' {
		return g
	}
	h := uint32(ch) * 2654435761
	for i := 0; i < 3; i++ {
		s := strokes[(h>>(8*i))%uint32(len(strokes))]
		for r := range g {
			g[r] |= s[r]
		}
	}
	return g
}

// drawGlyph paints ch's cell at (x, y), fg on bg.
func (c *canvas) drawGlyph(x, y int, ch byte, fg, bg uint32) {
	g := glyphFor(ch)
	for r := 0; r < glyphH && y+r < c.h; r++ {
		for b := 0; b < glyphW && x+b < c.w; b++ {
			col := bg
			if g[r]&(0x80>>b) != 0 {
				col = fg
			}
			c.set(x+b, y+r, col)
		}
	}
}

// textLine returns a line of pseudo-words for n cells.
func textLine(rng *rand.Rand, n int) []byte {
	line := make([]byte, 0, n)
	for len(line) < n {
		word := 2 + rng.IntN(8)
		for range word {
			line = append(line, byte('a'+rng.IntN(26)))
		}
		line = append(line, ' ')
	}
	return line[:n]
}

// drawText fills a box with lines of text, leaving some lines short as prose does.
func (c *canvas) drawText(rng *rand.Rand, x, y, w, h int, fg, bg uint32) {
	for ly := y; ly+glyphH <= y+h; ly += glyphH + 2 {
		n := w / glyphW
		if rng.IntN(4) == 0 {
			n = rng.IntN(n + 1)
		}
		for i, ch := range textLine(rng, n) {
			c.drawGlyph(x+i*glyphW, ly, ch, fg, bg)
		}
	}
}

// Palette of a flat desktop theme.
var (
	wallpapers = []uint32{rgb(0x2d, 0x4a, 0x6e), rgb(0x3b, 0x55, 0x3a), rgb(0x5a, 0x3e, 0x5e), rgb(0x44, 0x44, 0x4c)}
	titleBars  = []uint32{rgb(0x30, 0x30, 0x38), rgb(0x1f, 0x5f, 0xa8), rgb(0x6b, 0x2e, 0x2e)}
	windowBg   = rgb(0xf4, 0xf4, 0xf2)
	textFg     = rgb(0x20, 0x20, 0x24)
	buttonBg   = rgb(0xd8, 0xd8, 0xde)
	taskbar    = rgb(0x18, 0x18, 0x1c)
	termBg     = rgb(0x1e, 0x1e, 0x2e)
	termFg     = rgb(0xcd, 0xd6, 0xf4)
)

// drawDesktop paints scene number k: wallpaper, a task bar, and three or four windows with a
// title bar, a toolbar of flat buttons and a body of text.
func (c *canvas) drawDesktop(k int) {
	rng := rand.New(rand.NewPCG(uint64(k), 0x5eed))
	c.fill(0, 0, c.w, c.h, wallpapers[k%len(wallpapers)])
	c.fill(0, c.h-40, c.w, 40, taskbar)
	for i := 0; i < 8; i++ {
		c.fill(8+i*56, c.h-34, 48, 28, buttonBg)
	}
	for i := 0; i < 3+rng.IntN(2); i++ {
		w := c.w/3 + rng.IntN(c.w/3+1)
		h := c.h/3 + rng.IntN(c.h/3+1)
		x := rng.IntN(max(1, c.w-w))
		y := rng.IntN(max(1, c.h-40-h))
		c.fill(x-1, y-1, w+2, h+2, rgb(0x10, 0x10, 0x10))
		title := titleBars[rng.IntN(len(titleBars))]
		c.fill(x, y, w, 28, title)
		c.drawText(rng, x+10, y+6, min(w-60, 240), 16, rgb(0xff, 0xff, 0xff), title)
		c.fill(x, y+28, w, h-28, windowBg)
		for b := 0; b*76+80 < w; b++ {
			c.fill(x+8+b*76, y+36, 68, 24, buttonBg)
		}
		c.drawText(rng, x+12, y+72, w-24, h-84, textFg, windowBg)
	}
}
