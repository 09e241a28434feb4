// Package painted is an agent's screen that a test paints, for tests of what records and plays
// the framebuffer channel without an X server: each step draws bands whose colours and widths
// differ from every other step's, so the screens of two steps are never alike.
package painted

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"github.com/assistkit/assist/rdp"
)

// Screen is an rdp.Screen of one monitor.
type Screen struct {
	mu  sync.Mutex
	img *image.RGBA
}

// New returns a w×h screen showing step 0.
func New(w, h int) *Screen {
	s := &Screen{img: image.NewRGBA(image.Rect(0, 0, w, h))}
	s.Paint(0)
	return s
}

// Monitors is the one monitor.
func (s *Screen) Monitors() ([]rdp.Monitor, error) {
	return []rdp.Monitor{{W: s.img.Rect.Dx(), H: s.img.Rect.Dy(), Primary: true, Name: "painted"}}, nil
}

// Capture copies r of the screen into dst.
func (s *Screen) Capture(dst *image.RGBA, r image.Rectangle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	draw.Draw(dst, dst.Rect, s.img, r.Min, draw.Src)
	return nil
}

// Paint draws step k and returns a copy of the screen as it is then.
func (s *Screen) Paint(k int) *image.RGBA {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			band := (x + y*(k%3+1)) / (5 + 3*k)
			s.img.SetRGBA(x, y, color.RGBA{uint8(30 * k), uint8(band * 41), uint8(200 - band*7), 255})
		}
	}
	c := image.NewRGBA(b)
	copy(c.Pix, s.img.Pix)
	return c
}
