package rdp

import (
	"image"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// cell is the side of the squares ApplyAll tracks the screen in.
const cell = 16

// ApplyAll applies msgs in order and leaves the image as Apply would, one by one, but decodes
// only the rectangles whose pixels survive: a rectangle that later ones overwrite before a copy
// reads it is skipped, and so is everything before the last layout (which clears the screen).
// Catching up on many updates at once (a recorder making a key frame, a player seeking) then
// costs about one screen's worth of decoding however often the screen changed in between.
//
// Skipped rectangles are not checked; the others are, as by Apply. Updates counts every update
// end in msgs.
func (d *Decoder) ApplyAll(msgs [][]byte) error {
	keep, err := d.survivors(msgs)
	if err != nil {
		return err
	}
	for i, m := range msgs {
		if !keep[i] {
			if len(m) > 4 && wire.Type(m[4]) == wire.TUpdateEnd {
				d.updates++
			}
			continue
		}
		if _, err := d.Apply(m); err != nil {
			return err
		}
	}
	return nil
}

// survivors marks the messages ApplyAll must apply: every one but rectangles and layouts, the
// last layout, and the rectangles after it that a later pixel still depends on, found walking
// back from the end with the cells whose pixels are still wanted.
func (d *Decoder) survivors(msgs [][]byte) ([]bool, error) {
	keep := make([]bool, len(msgs))
	bounds, lastLayout := d.Bounds(), -1
	for i := len(msgs) - 1; i >= 0; i-- {
		if t, p, err := splitMessage(msgs[i]); err == nil && t == wire.TLayout {
			var l wire.Layout
			if err := l.DecodePayload(p); err != nil {
				return nil, protocolErrorf("decode layout: %v", err)
			}
			bounds, lastLayout = layoutBounds(&l), i
			break
		}
	}
	want := newCellSet(bounds)
	for i := len(msgs) - 1; i >= 0; i-- {
		t, p, err := splitMessage(msgs[i])
		if err != nil {
			return nil, err
		}
		switch {
		case t == wire.TLayout:
			keep[i] = i == lastLayout
		case t != wire.TRect:
			keep[i] = true
		case i < lastLayout:
		default:
			var r wire.Rect
			if err := r.DecodePayload(p); err != nil {
				return nil, protocolErrorf("decode rect: %v", err)
			}
			dst := image.Rect(int(r.X), int(r.Y), int(r.X)+int(r.W), int(r.Y)+int(r.H))
			if !want.any(dst) {
				continue
			}
			keep[i] = true
			want.cover(dst)
			if r.Enc == wire.EncCopy {
				want.add(dst.Sub(dst.Min).Add(image.Pt(int(r.SrcX), int(r.SrcY))))
			}
		}
	}
	return keep, nil
}

func layoutBounds(l *wire.Layout) image.Rectangle {
	var b image.Rectangle
	for _, m := range l.Monitors {
		b = b.Union(image.Rect(int(m.X), int(m.Y), int(m.X)+int(m.W), int(m.Y)+int(m.H)))
	}
	return b
}

// cellSet is a set of the screen's cell×cell squares.
type cellSet struct {
	b    image.Rectangle
	w, h int
	on   []bool
}

func newCellSet(b image.Rectangle) *cellSet {
	w, h := (b.Dx()+cell-1)/cell, (b.Dy()+cell-1)/cell
	s := &cellSet{b: b, w: w, h: h, on: make([]bool, w*h)}
	for i := range s.on {
		s.on[i] = true
	}
	return s
}

// span is the cells r touches (touch) or covers whole (whole), clipped to the screen; a cell
// at the screen's edge counts as whole when r covers its part of the screen.
func (s *cellSet) span(r image.Rectangle, whole bool) (x0, y0, x1, y1 int) {
	r = r.Intersect(s.b).Sub(s.b.Min)
	if r.Empty() {
		return 0, 0, 0, 0
	}
	if !whole {
		return r.Min.X / cell, r.Min.Y / cell, (r.Max.X + cell - 1) / cell, (r.Max.Y + cell - 1) / cell
	}
	x0, y0 = (r.Min.X+cell-1)/cell, (r.Min.Y+cell-1)/cell
	x1, y1 = r.Max.X/cell, r.Max.Y/cell
	if r.Max.X == s.b.Dx() {
		x1 = s.w
	}
	if r.Max.Y == s.b.Dy() {
		y1 = s.h
	}
	return x0, y0, x1, y1
}

func (s *cellSet) any(r image.Rectangle) bool {
	x0, y0, x1, y1 := s.span(r, false)
	for y := y0; y < y1; y++ {
		for _, on := range s.on[y*s.w+x0 : y*s.w+x1] {
			if on {
				return true
			}
		}
	}
	return false
}

func (s *cellSet) set(r image.Rectangle, whole, v bool) {
	x0, y0, x1, y1 := s.span(r, whole)
	for y := y0; y < y1; y++ {
		row := s.on[y*s.w+x0 : y*s.w+max(x0, x1)]
		for i := range row {
			row[i] = v
		}
	}
}

func (s *cellSet) cover(r image.Rectangle) { s.set(r, true, false) }
func (s *cellSet) add(r image.Rectangle)   { s.set(r, false, true) }
