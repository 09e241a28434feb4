package workload

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strings"
)

// Full mode's scenes: a desktop as people use it, drawn anew for every change and never the
// same twice. Every 20 scenes the desktop switches to another of five window layouts (a
// maximised document, two windows side by side, a cascade of three, an editor beside a
// terminal, a dialog over a terminal); in between, as when someone drags windows and scrolls,
// every window moves a few pixels and its document scrolls on by a line, with a new word
// typed somewhere. The documents are long texts of anti-aliased TrueType words (the Go fonts),
// so what a window shows is mostly what it showed a moment ago, elsewhere on the screen, and
// partly new; no two scenes are alike, and nothing is aligned to the encoder's tiles.

var words = strings.Fields(`the of and to in is you that it he was for on are as with his they at be this
have from or one had by word but not what all were we when your can said there use an each which she do how
their if will up other about out many then them these so some her would make like him into time has look
two more write go see number no way could people my than first water been call who oil its now find long
down day did get come made may part over new sound take only little work know place year live me back give
most very after thing our just name good sentence man think say great where help through much before line
right too mean old any same tell boy follow came want show also around form three small set put end does
another well large must big even such because turn here why ask went men read need land different home us
move try kind hand picture again change off play spell air away animal house point page letter mother answer
found study still learn should printer offline network settings account password update install restart
server request connection window folder document file open save print error message support ticket`)

// sceneDrawer draws full mode's scenes.
type sceneDrawer struct {
	f   *faces
	rng *rand.Rand // this scene's: drift, titles, the new word
	n   int        // the scene being drawn
	doc int        // the document the next window shows
}

// docLine returns the words of line l of document k: the same every time it is asked for.
func docLine(k, l int) []string {
	rng := rand.New(rand.NewPCG(uint64(k)<<32|uint64(l), 0xd0c))
	if rng.IntN(9) == 0 {
		return nil // a paragraph break
	}
	out := make([]string, 0, 24)
	for range 6 + rng.IntN(18) {
		w := words[rng.IntN(len(words))]
		if rng.IntN(12) == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		out = append(out, w)
	}
	return out
}

// word is a word of the scene itself: a title, a button, what was just typed.
func (d *sceneDrawer) word() string { return words[d.rng.IntN(len(words))] }

// scrolled is the first line the next window's document shows: one line further each scene.
func (d *sceneDrawer) scrolled() (doc, line int) {
	d.doc++
	return d.doc, d.n + 37*d.doc
}

// prose fills r with the next document's lines in fc, ragged right; one line of the ones shown
// gets a word typed into it.
func (d *sceneDrawer) prose(c *canvas, fc *face, r image.Rectangle, fg, bg uint32) {
	doc, l := d.scrolled()
	typed := d.rng.IntN(max(1, r.Dy()/fc.height))
	for i, y := 0, r.Min.Y+fc.ascent; y+fc.height-fc.ascent <= r.Max.Y; i, y = i+1, y+fc.height {
		x := r.Min.X
		line := docLine(doc, l+i)
		if i == typed {
			line = append([]string{d.word()}, line...)
		}
		for _, w := range line {
			if x+fc.width(w) > r.Max.X {
				break
			}
			x = c.drawString(fc, x, y, w, fg, bg, r) + fc.advance[' ']
		}
	}
}

// code fills r with the next document's lines in the monospace face, indented, coloured as
// syntax.
func (d *sceneDrawer) code(c *canvas, r image.Rectangle, bg uint32) {
	fc := d.f.mono
	cols := []uint32{rgb(0xd4, 0xd4, 0xd4), rgb(0x56, 0x9c, 0xd6), rgb(0xce, 0x91, 0x78), rgb(0x6a, 0x99, 0x55)}
	doc, l := d.scrolled()
	for i, y := 0, r.Min.Y+fc.ascent; y+fc.height-fc.ascent <= r.Max.Y; i, y = i+1, y+fc.height {
		line := docLine(doc, l+i)
		x := r.Min.X + fc.advance[' ']*4*(len(line)%4)
		for j, w := range line[:min(len(line), 7)] {
			x = c.drawString(fc, x, y, w, cols[(len(w)+j)%len(cols)], bg, r) + fc.advance[' ']
		}
	}
}

// window draws a window frame with a title and returns its client area.
func (d *sceneDrawer) window(c *canvas, r image.Rectangle, title string, accent uint32) image.Rectangle {
	c.fill(r.Min.X-1, r.Min.Y-1, r.Dx()+2, r.Dy()+2, rgb(0x10, 0x10, 0x14))
	c.fill(r.Min.X, r.Min.Y, r.Dx(), 30, accent)
	c.drawString(d.f.title, r.Min.X+12, r.Min.Y+20, title, rgb(0xff, 0xff, 0xff), accent, r)
	for i := range 3 { // the window's buttons
		c.fill(r.Max.X-30*(i+1), r.Min.Y+8, 14, 14, blend(rgb(0xff, 0xff, 0xff), accent, 80))
	}
	return image.Rect(r.Min.X, r.Min.Y+30, r.Max.X, r.Max.Y)
}

// document draws a window with a toolbar and prose.
func (d *sceneDrawer) document(c *canvas, r image.Rectangle, accent uint32) {
	in := d.window(c, r, fmt.Sprintf("notes-%d.txt — Editor", d.doc+1), accent)
	c.fill(in.Min.X, in.Min.Y, in.Dx(), in.Dy(), windowBg)
	c.fill(in.Min.X, in.Min.Y, in.Dx(), 34, rgb(0xe6, 0xe6, 0xea))
	x := in.Min.X + 8
	for x+80 < in.Max.X && x < in.Min.X+600 {
		w := words[(len(words)/3+x)%len(words)]
		x = c.drawString(d.f.body, x+8, in.Min.Y+22, w, textFg, rgb(0xe6, 0xe6, 0xea), in) + 18
	}
	d.prose(c, d.f.body, image.Rect(in.Min.X+16, in.Min.Y+46, in.Max.X-16, in.Max.Y-8), textFg, windowBg)
}

func (d *sceneDrawer) terminal(c *canvas, r image.Rectangle) {
	in := d.window(c, r, "Terminal", rgb(0x30, 0x30, 0x38))
	c.fill(in.Min.X, in.Min.Y, in.Dx(), in.Dy(), termBg)
	d.code(c, in.Inset(8), termBg)
}

// layoutScenes is how many scenes a layout lasts before the desktop switches to the next.
const layoutScenes = 20

func (d *sceneDrawer) draw(c *canvas, n int) {
	d.rng, d.n, d.doc = rand.New(rand.NewPCG(uint64(n), 0xdeed)), n, 0
	w, h := c.w, c.h
	layout := n / layoutScenes
	// The wallpaper: a gradient whose hues change with the layout (another workspace).
	hue := float64(layout%97) / 97
	for y := 0; y < h-40; y++ {
		t := float64(y) / float64(h)
		col := rgb(uint8(40+60*t+30*math.Sin(2*math.Pi*hue)), uint8(60+40*t), uint8(110-30*t+20*math.Cos(2*math.Pi*hue)))
		c.fill(0, y, w, 1, col)
	}
	c.fill(0, h-40, w, 40, taskbar)
	for i := range 10 {
		c.fill(8+i*56, h-34, 48, 28, buttonBg)
	}
	c.drawString(d.f.body, w-90, h-14, "10:42 AM", rgb(0xee, 0xee, 0xee), taskbar, image.Rect(0, h-40, w, h))
	j := func(v int) int { return v + d.rng.IntN(41) - 20 } // a few pixels of drift
	accent := titleBars[layout%len(titleBars)]
	desk := image.Rect(0, 0, w, h-40)
	clip := func(r image.Rectangle) image.Rectangle { return r.Intersect(desk.Inset(4)) }
	switch layout % 5 {
	case 0: // one maximised document
		d.document(c, clip(image.Rect(j(20), j(20), w-j(20), h-40-j(20))), accent)
	case 1: // two side by side
		d.document(c, clip(image.Rect(j(30), j(40), w/2-j(20), h-40-j(40))), accent)
		d.document(c, clip(image.Rect(w/2+j(20), j(40), w-j(30), h-40-j(40))), titleBars[(layout+1)%len(titleBars)])
	case 2: // a cascade of three
		for i := range 3 {
			x, y := j(80+i*160), j(60+i*110)
			d.document(c, clip(image.Rect(x, y, x+w/2, y+h/2)), titleBars[(layout+i)%len(titleBars)])
		}
	case 3: // an editor beside a terminal
		d.document(c, clip(image.Rect(j(20), j(20), j(w*3/5), h-40-j(20))), accent)
		d.terminal(c, clip(image.Rect(j(w*3/5+20), j(20), w-j(20), h-40-j(20))))
	default: // a dialog over a terminal
		d.terminal(c, clip(image.Rect(j(40), j(30), w-j(40), h-40-j(30))))
		x, y := w/2-260+d.rng.IntN(81)-40, h/2-120+d.rng.IntN(61)-30
		in := d.window(c, clip(image.Rect(x, y, x+520, y+240)), "Confirm", accent)
		c.fill(in.Min.X, in.Min.Y, in.Dx(), in.Dy(), windowBg)
		d.prose(c, d.f.body, image.Rect(in.Min.X+20, in.Min.Y+16, in.Max.X-20, in.Max.Y-56), textFg, windowBg)
		c.fill(in.Max.X-200, in.Max.Y-44, 84, 30, buttonBg)
		c.drawString(d.f.body, in.Max.X-180, in.Max.Y-24, "Cancel", textFg, buttonBg, in)
		c.fill(in.Max.X-104, in.Max.Y-44, 84, 30, accent)
		c.drawString(d.f.body, in.Max.X-78, in.Max.Y-24, "OK", rgb(0xff, 0xff, 0xff), accent, in)
	}
}
