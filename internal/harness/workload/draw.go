package workload

import (
	"image"
	"math/rand/v2"
)

// textArea is the typing and scroll area: 1200×800, centred, clipped to the screen.
func textArea(w, h int) image.Rectangle {
	aw, ah := min(1200, w), min(800, h)
	ah -= ah % glyphH
	x, y := (w-aw)/2, (h-ah)/2
	return image.Rect(x, y, x+aw, y+ah)
}

// drawer makes each change of a mode in the surface's canvas and sends it. With MIT-SHM the
// server reads the canvas when it processes the request, so the caller must sync after each
// change before the next one touches the canvas (Run's record does).
type drawer struct {
	s     *surface
	mode  Mode
	area  image.Rectangle
	rng   *rand.Rand
	col   int // typing cursor, in cells
	row   int
	desk  *sceneDrawer // full and video: the anti-aliased desktop
	film  *film        // video
	video image.Rectangle
}

func newDrawer(s *surface, mode Mode) (*drawer, error) {
	c := s.canvas
	d := &drawer{s: s, mode: mode, area: textArea(c.w, c.h), rng: rand.New(rand.NewPCG(1, 2))}
	if mode == Full || mode == Video {
		f, err := loadFaces()
		if err != nil {
			return nil, err
		}
		d.desk = &sceneDrawer{f: f}
	}
	if mode == Video {
		d.film, d.video = newFilm(), videoArea(c.w, c.h)
	}
	return d, nil
}

// setMarker writes change n's marker pixel.
func (d *drawer) setMarker(x, y, n int) {
	r, g, b := MarkerColor(n)
	d.s.canvas.set(x, y, rgb(r, g, b))
}

// first draws the initial scene: a desktop, with the text area for typing and scroll.
func (d *drawer) first() mark {
	c := d.s.canvas
	if d.desk != nil {
		d.desk.draw(c, 0)
	} else {
		c.drawDesktop(0)
	}
	if d.mode == Video {
		d.film.frame(c, d.video, 0)
	}
	if d.mode == Typing || d.mode == Scroll {
		a := d.area
		c.fill(a.Min.X, a.Min.Y, a.Dx(), a.Dy(), termBg)
		if d.mode == Scroll {
			c.drawText(d.rng, a.Min.X, a.Min.Y, a.Dx(), a.Dy(), termFg, termBg)
		}
	}
	d.setMarker(0, 0, 0)
	full := image.Rect(0, 0, c.w, c.h)
	d.s.put(full)
	return mark{r: full}
}

func (d *drawer) change(n int) mark {
	switch d.mode {
	case Full:
		return d.full(n)
	case Typing:
		return d.typing(n)
	case Video:
		return d.videoFrame(n)
	}
	return d.scroll(n)
}

// full draws a new desktop scene over the whole screen.
func (d *drawer) full(n int) mark {
	c := d.s.canvas
	d.desk.draw(c, n)
	d.setMarker(0, 0, n)
	r := image.Rect(0, 0, c.w, c.h)
	d.s.put(r)
	return mark{r: r}
}

// videoFrame draws the film's next frame in the video region. Its marker is 64 pixels (a tile
// of the agent's encoder) above the region, on the desktop: an encoder that sends the film
// lossy still carries the marker exactly.
func (d *drawer) videoFrame(n int) mark {
	r := d.video
	d.film.frame(d.s.canvas, r, n)
	m := image.Pt(r.Min.X, max(0, r.Min.Y-videoMarkerLift))
	d.setMarker(m.X, m.Y, n)
	d.s.put(r)
	d.s.put(image.Rectangle{Min: m, Max: m.Add(image.Pt(1, 1))})
	return mark{r: r.Union(image.Rect(m.X, m.Y, m.X+1, m.Y+1)), mx: m.X, my: m.Y}
}

// videoMarkerLift is how far above the video region its marker is.
const videoMarkerLift = 64

// typing writes the next glyph of a pseudo-text at the cursor, wrapping at the area's edges.
func (d *drawer) typing(n int) mark {
	cols, rows := d.area.Dx()/glyphW, d.area.Dy()/glyphH
	if d.col >= cols {
		d.col, d.row = 0, (d.row+1)%rows
	}
	ch := byte('a' + d.rng.IntN(26))
	if d.rng.IntN(6) == 0 {
		ch = ' '
	}
	x, y := d.area.Min.X+d.col*glyphW, d.area.Min.Y+d.row*glyphH
	d.s.canvas.drawGlyph(x, y, ch, termFg, termBg)
	d.setMarker(x, y, n)
	d.col++
	r := image.Rect(x, y, x+glyphW, y+glyphH)
	d.s.put(r)
	return mark{r: r, mx: x, my: y}
}

// scroll moves the area up one line and writes a new line at the bottom.
func (d *drawer) scroll(n int) mark {
	a := d.area
	d.s.scrollUp(a, glyphH)
	y := a.Max.Y - glyphH
	c := d.s.canvas
	c.fill(a.Min.X, y, a.Dx(), glyphH, termBg)
	for i, ch := range textLine(d.rng, d.rng.IntN(a.Dx()/glyphW+1)) {
		c.drawGlyph(a.Min.X+i*glyphW, y, ch, termFg, termBg)
	}
	d.setMarker(a.Min.X, y, n)
	d.s.put(image.Rect(a.Min.X, y, a.Max.X, a.Max.Y))
	return mark{r: a, mx: a.Min.X, my: y}
}
