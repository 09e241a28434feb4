package xdesktop

import (
	"fmt"
	"image"
	"log/slog"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xfixes"
)

// cursor reads the pointer through XFixes GetCursorImage, which gives position, shape and the
// server's cursor serial in one reply. The shape is converted only when the serial changes.
type cursor struct {
	conn *xgb.Conn
	err  error // why there is no XFixes, or nil

	mu     sync.Mutex
	serial uint32
	shape  *image.RGBA
	hotX   int
	hotY   int
}

func newCursor(conn *xgb.Conn, log *slog.Logger) *cursor {
	c := &cursor{conn: conn}
	if err := xfixes.Init(conn); err != nil {
		c.err = fmt.Errorf("xdesktop: cursor: no XFixes extension: %w", err)
	} else if _, err := xfixes.QueryVersion(conn, 5, 0).Reply(); err != nil {
		c.err = fmt.Errorf("xdesktop: cursor: xfixes version: %w", err)
	}
	if c.err != nil {
		log.Info("cursor shape unavailable", "err", c.err)
	}
	return c
}

// Cursor returns the pointer position (root coordinates), its shape with hotspot, and the
// server's cursor serial, which changes whenever the shape does. The shape image is shared
// between calls with the same serial and must not be modified.
func (d *Desktop) Cursor() (x, y int, shape *image.RGBA, hotX, hotY int, serial uint64, err error) {
	c := d.cursor
	if c.err != nil {
		return 0, 0, nil, 0, 0, 0, c.err
	}
	reply, err := xfixes.GetCursorImage(c.conn).Reply()
	if err != nil {
		return 0, 0, nil, 0, 0, 0, fmt.Errorf("xdesktop: cursor image: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shape == nil || reply.CursorSerial != c.serial {
		c.shape = argbToRGBA(reply.CursorImage, int(reply.Width), int(reply.Height))
		c.serial = reply.CursorSerial
		c.hotX, c.hotY = int(reply.Xhot), int(reply.Yhot)
	}
	return int(reply.X), int(reply.Y), c.shape, c.hotX, c.hotY, uint64(c.serial), nil
}

// argbToRGBA converts XFixes' premultiplied ARGB words to image.RGBA, which is premultiplied too,
// so the channels are only reordered.
func argbToRGBA(px []uint32, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if len(px) < w*h {
		return img
	}
	for i, p := range px[:w*h] {
		o := img.Pix[i*4 : i*4+4 : i*4+4]
		o[0], o[1], o[2], o[3] = byte(p>>16), byte(p>>8), byte(p), byte(p>>24)
	}
	return img
}
