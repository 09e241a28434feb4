package workload

import "image"

// Scenes draws full mode's desktop scenes into images, without an X server, so that a
// benchmark of what consumes them (the desktop encoder) runs on the very content the end-to-end
// bench shows, scene after scene.
type Scenes struct {
	d *sceneDrawer
	c *canvas
}

// NewScenes returns a drawer of w×h scenes.
func NewScenes(w, h int) (*Scenes, error) {
	f, err := loadFaces()
	if err != nil {
		return nil, err
	}
	return &Scenes{d: &sceneDrawer{f: f}, c: newCanvas(w, h)}, nil
}

// Draw draws scene n (0, 1, … as full mode draws them, marker pixel included) into dst, which
// must be w×h at (0, 0), as opaque RGBA.
func (s *Scenes) Draw(dst *image.RGBA, n int) {
	s.d.draw(s.c, n)
	r, g, b := MarkerColor(n)
	s.c.set(0, 0, rgb(r, g, b))
	for y := range s.c.h {
		src, row := s.c.pix[y*s.c.w*4:(y+1)*s.c.w*4], dst.Pix[y*dst.Stride:]
		for i := 0; i < len(src); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = src[i+2], src[i+1], src[i], 0xff
		}
	}
}
