package rdp

import (
	"image"
	"image/color"
	"math/rand/v2"
)

// Desktop-like test scenes: flat UI blocks, windows, glyph-like text. golang.org/x/image is not
// available, so glyphs are 8×16 cells with a deterministic random bitmap in the middle, like a
// bitmap font: every occurrence of one glyph is pixel-identical, as on a real screen.

type font [96][16]uint8 // one byte per glyph row, bit 7 = leftmost pixel

func newFont(seed uint64) *font {
	rng := rand.New(rand.NewPCG(seed, 1))
	var f font
	for g := 1; g < len(f); g++ { // glyph 0 is the space
		for row := 3; row < 13; row++ {
			f[g][row] = uint8(rng.IntN(256)) & 0x7e
		}
	}
	return &f
}

func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	fill(img, r.Intersect(img.Rect), [3]byte{c.R, c.G, c.B})
}

// drawGlyph draws glyph g (0 = space) with its top-left at (x, y).
func (f *font) drawGlyph(img *image.RGBA, x, y, g int, fg, bg color.RGBA) {
	for row := 0; row < 16; row++ {
		bits := f[g%len(f)][row]
		for col := 0; col < 8; col++ {
			c := bg
			if bits&(0x80>>col) != 0 {
				c = fg
			}
			if image.Pt(x+col, y+row).In(img.Rect) {
				img.SetRGBA(x+col, y+row, c)
			}
		}
	}
}

// drawText fills the lines of box with words of random glyphs; fullness is the share of each
// line that carries text (lines end ragged, as in prose or code).
func (f *font) drawText(img *image.RGBA, box image.Rectangle, rng *rand.Rand, fullness float64, fg, bg color.RGBA) {
	fillRect(img, box, bg)
	cols := box.Dx() / 8
	for y := box.Min.Y; y+16 <= box.Max.Y; y += 16 {
		f.drawLine(img, box.Min.X, y, cols, rng, fullness, fg, bg)
	}
}

func (f *font) drawLine(img *image.RGBA, x, y, cols int, rng *rand.Rand, fullness float64, fg, bg color.RGBA) {
	n := int(float64(cols) * fullness * (0.3 + 0.7*rng.Float64()))
	for c := 0; c < n; {
		word := 2 + rng.IntN(8)
		for i := 0; i < word && c < n; i, c = i+1, c+1 {
			f.drawGlyph(img, x+c*8, y, 1+rng.IntN(len(f)-1), fg, bg)
		}
		c++ // space
	}
}

var (
	white    = color.RGBA{255, 255, 255, 255}
	black    = color.RGBA{0, 0, 0, 255}
	termBG   = color.RGBA{30, 30, 30, 255}
	termFG   = color.RGBA{204, 204, 204, 255}
	titleBG  = color.RGBA{53, 132, 228, 255}
	panelBG  = color.RGBA{36, 31, 49, 255}
	buttonBG = color.RGBA{222, 221, 218, 255}
)

// window draws a window frame with a title and returns its client area.
func window(img *image.RGBA, f *font, r image.Rectangle, title string, rng *rand.Rand) image.Rectangle {
	fillRect(img, r, color.RGBA{154, 153, 150, 255}) // border
	inner := r.Inset(1)
	bar := image.Rect(inner.Min.X, inner.Min.Y, inner.Max.X, inner.Min.Y+28)
	fillRect(img, bar, titleBG)
	for i := range title {
		f.drawGlyph(img, bar.Min.X+8+i*8, bar.Min.Y+6, int(title[i])-32, white, titleBG)
	}
	for i := 0; i < 3; i++ { // window buttons
		fillRect(img, image.Rect(bar.Max.X-24*(i+1), bar.Min.Y+6, bar.Max.X-24*(i+1)+16, bar.Min.Y+22), buttonBG)
	}
	return image.Rect(inner.Min.X, bar.Max.Y, inner.Max.X, inner.Max.Y)
}

// desktop draws a 1920×1080-like desktop of size w×h: wallpaper gradient, a panel with icons,
// a terminal, an editor and a browser-like window with buttons. variant changes the text.
func desktop(w, h int, variant uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	f := newFont(7)
	rng := rand.New(rand.NewPCG(variant, 2))
	for y := 0; y < h; y++ { // vertical gradient wallpaper
		fillRect(img, image.Rect(0, y, w, y+1), color.RGBA{uint8(20 + 60*y/h), uint8(60 + 40*y/h), uint8(110 + 60*y/h), 255})
	}
	panel := image.Rect(0, h-40, w, h)
	fillRect(img, panel, panelBG)
	for i := 0; i < 12; i++ { // panel icons
		ic := image.Rect(8+i*40, h-36, 40+i*40, h-4)
		fillRect(img, ic, color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
		fillRect(img, ic.Inset(8), white)
	}
	for i := 0; i < 5; i++ { // desktop icons with labels
		ic := image.Rect(24, 24+i*96, 72, 72+i*96)
		fillRect(img, ic, color.RGBA{uint8(rng.IntN(256)), 200, 90, 255})
		f.drawLine(img, 16, 76+i*96, 8, rng, 1, white, img.RGBAAt(16, 76+i*96))
	}
	term := window(img, f, image.Rect(120, 60, 120+660, 60+420), "Terminal", rng)
	f.drawText(img, term.Inset(4), rng, 0.6, termFG, termBG)
	edit := window(img, f, image.Rect(w/2-200, 120, w/2+560, h-120), "notes.txt - Editor", rng)
	f.drawText(img, edit.Inset(6), rng, 0.5, black, white)
	web := window(img, f, image.Rect(160, 520, 160+700, h-60), "Browser", rng)
	fillRect(img, web, white)
	fillRect(img, image.Rect(web.Min.X, web.Min.Y, web.Max.X, web.Min.Y+36), buttonBG) // toolbar
	for i := 0; i < 4; i++ {
		fillRect(img, image.Rect(web.Min.X+8+i*110, web.Min.Y+60, web.Min.X+108+i*110, web.Min.Y+90), titleBG)
	}
	f.drawText(img, image.Rect(web.Min.X+8, web.Min.Y+110, web.Max.X-8, web.Max.Y-8), rng, 0.7, black, white)
	return img
}

// terminalScene is a 1920×1080 screen with a 1200×800 terminal text area full of text, and the
// same screen after the terminal scrolled one 16-pixel line.
func terminalScene() (before, after *image.RGBA, area image.Rectangle) {
	before = desktop(1920, 1080, 1)
	f := newFont(7)
	rng := rand.New(rand.NewPCG(3, 4))
	win := window(before, f, image.Rect(300, 100, 300+1210, 100+840), "Terminal", rng)
	area = image.Rect(win.Min.X+4, win.Min.Y+4, win.Min.X+4+1200, win.Min.Y+4+800)
	f.drawText(before, area, rng, 0.8, termFG, termBG)
	after = image.NewRGBA(before.Rect)
	copy(after.Pix, before.Pix)
	copyRect(after, image.Rect(area.Min.X, area.Min.Y, area.Max.X, area.Max.Y-16), image.Pt(area.Min.X, area.Min.Y+16))
	fillRect(after, image.Rect(area.Min.X, area.Max.Y-16, area.Max.X, area.Max.Y), termBG)
	f.drawLine(after, area.Min.X, area.Max.Y-16, area.Dx()/8, rng, 0.8, termFG, termBG)
	return before, after, area
}

func cloneRGBA(img *image.RGBA) *image.RGBA {
	c := image.NewRGBA(img.Rect)
	copy(c.Pix, img.Pix)
	return c
}
