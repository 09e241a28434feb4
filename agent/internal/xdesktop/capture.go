package xdesktop

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/assistkit/assist/agent/internal/bgrx"
	"github.com/assistkit/assist/internal/sysvshm"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xproto"
)

// grabber reads pixels from the root window. It keeps one MIT-SHM segment attached to the X
// server for the life of the desktop: the server writes the pixels straight into our memory, so
// a 1080p frame is one request, one memcpy in the server and one bulk conversion here. This is
// why it does not call kbinani/screenshot per frame, which dials a new connection and makes a
// new segment every time and converts pixel by pixel (about 70 ms a 1080p frame). Without
// MIT-SHM (a remote X server, a sandbox) it falls back to GetImage on the same connection.
type grabber struct {
	conn   *xgb.Conn
	root   xproto.Drawable
	log    *slog.Logger
	format error // why the root's pixel format cannot be converted, or nil

	w, h atomic.Int32 // root size, kept current by ConfigureNotify

	mu     sync.Mutex
	useSHM bool
	seg    shm.Seg
	segID  int
	data   []byte
}

func newGrabber(conn *xgb.Conn, screen *xproto.ScreenInfo, log *slog.Logger) (*grabber, error) {
	g := &grabber{conn: conn, root: xproto.Drawable(screen.Root), log: log}
	g.w.Store(int32(screen.WidthInPixels))
	g.h.Store(int32(screen.HeightInPixels))
	g.format = checkFormat(xproto.Setup(conn), screen)
	// ConfigureNotify on the root tells us when RandR resizes the screen.
	err := xproto.ChangeWindowAttributesChecked(conn, screen.Root, xproto.CwEventMask,
		[]uint32{xproto.EventMaskStructureNotify}).Check()
	if err != nil {
		return nil, fmt.Errorf("xdesktop: watch root window: %w", err)
	}
	if err := shm.Init(conn); err != nil {
		log.Info("MIT-SHM unavailable, capturing with GetImage", "err", err)
		return g, nil
	}
	g.useSHM = true
	return g, nil
}

// checkFormat accepts the layout every modern X server uses: 24 or 32-bit depth stored in 32 bits
// per pixel, little-endian, red in bits 16–23, green 8–15, blue 0–7.
func checkFormat(setup *xproto.SetupInfo, screen *xproto.ScreenInfo) error {
	if setup.ImageByteOrder != xproto.ImageOrderLSBFirst {
		return errors.New("xdesktop: unsupported pixel format: big-endian X server")
	}
	bpp := 0
	for _, f := range setup.PixmapFormats {
		if f.Depth == screen.RootDepth {
			bpp = int(f.BitsPerPixel)
		}
	}
	if bpp != 32 {
		return fmt.Errorf("xdesktop: unsupported pixel format: depth %d at %d bits per pixel (need 24 or 32-bit colour)", screen.RootDepth, bpp)
	}
	for _, d := range screen.AllowedDepths {
		for _, v := range d.Visuals {
			if v.VisualId == screen.RootVisual && (v.RedMask != 0xff0000 || v.GreenMask != 0xff00 || v.BlueMask != 0xff) {
				return fmt.Errorf("xdesktop: unsupported pixel format: masks %#x/%#x/%#x", v.RedMask, v.GreenMask, v.BlueMask)
			}
		}
	}
	return nil
}

func (g *grabber) resized(w, h int) {
	g.w.Store(int32(w))
	g.h.Store(int32(h))
}

func (g *grabber) bounds() image.Rectangle {
	return image.Rect(0, 0, int(g.w.Load()), int(g.h.Load()))
}

// Capture copies the pixels of r (root-window coordinates) into dst. Parts of r outside the
// screen come out opaque black.
func (d *Desktop) Capture(dst *image.RGBA, r image.Rectangle) error {
	return d.grab.capture(dst, r)
}

func (g *grabber) capture(dst *image.RGBA, r image.Rectangle) error {
	if g.format != nil {
		return g.format
	}
	if dst.Rect.Dx() < r.Dx() || dst.Rect.Dy() < r.Dy() {
		return fmt.Errorf("xdesktop: capture %v into a %v image", r, dst.Rect)
	}
	in := r.Intersect(g.bounds())
	if in != r {
		fillBlack(dst, r.Dx(), r.Dy())
	}
	if in.Empty() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	src, err := g.read(in)
	if err != nil {
		return fmt.Errorf("xdesktop: capture %v: %w", in, err)
	}
	w := in.Dx()
	off := (in.Min.Y-r.Min.Y)*dst.Stride + (in.Min.X-r.Min.X)*4 + dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y)
	for y := 0; y < in.Dy(); y++ {
		bgrx.ToRGBA(dst.Pix[off:], src[y*w*4:], w)
		off += dst.Stride
	}
	return nil
}

// read returns the pixels of r, rows packed (32-bit pixels, no padding). The slice is valid
// until the next read.
func (g *grabber) read(r image.Rectangle) ([]byte, error) {
	size := r.Dx() * r.Dy() * 4
	if g.useSHM {
		if err := g.ensureSegment(size); err != nil {
			g.log.Warn("MIT-SHM segment failed, capturing with GetImage", "err", err)
			g.useSHM = false
		} else {
			_, err := shm.GetImage(g.conn, g.root, int16(r.Min.X), int16(r.Min.Y), uint16(r.Dx()), uint16(r.Dy()),
				0xffffffff, xproto.ImageFormatZPixmap, g.seg, 0).Reply()
			if err != nil {
				return nil, fmt.Errorf("shm get image: %w", err)
			}
			return g.data[:size], nil
		}
	}
	reply, err := xproto.GetImage(g.conn, xproto.ImageFormatZPixmap, g.root, int16(r.Min.X), int16(r.Min.Y),
		uint16(r.Dx()), uint16(r.Dy()), 0xffffffff).Reply()
	if err != nil {
		return nil, fmt.Errorf("get image: %w", err)
	}
	if len(reply.Data) < size {
		return nil, fmt.Errorf("get image: %d bytes for %d pixels", len(reply.Data), size/4)
	}
	return reply.Data, nil
}

// ensureSegment makes the segment at least size bytes, sized for the whole screen so that it is
// made once, not per capture.
func (g *grabber) ensureSegment(size int) error {
	if len(g.data) >= size {
		return nil
	}
	if full := g.bounds().Dx() * g.bounds().Dy() * 4; full > size {
		size = full
	}
	g.freeSegment()
	id, data, err := sysvshm.Alloc(size)
	if err != nil {
		return err
	}
	seg, err := shm.NewSegId(g.conn)
	if err != nil {
		sysvshm.Release(id)
		sysvshm.Free(data)
		return fmt.Errorf("new segment id: %w", err)
	}
	err = shm.AttachChecked(g.conn, seg, uint32(id), false).Check()
	// The server holds its own attachment now (or failed to): the id can go.
	sysvshm.Release(id)
	if err != nil {
		sysvshm.Free(data)
		return fmt.Errorf("attach segment: %w", err)
	}
	g.seg, g.segID, g.data = seg, id, data
	return nil
}

func (g *grabber) freeSegment() {
	if g.data == nil {
		return
	}
	shm.Detach(g.conn, g.seg)
	sysvshm.Free(g.data)
	g.data = nil
}

func (g *grabber) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.data != nil {
		// Detach on the server before the connection closes, then unmap ours.
		shm.DetachChecked(g.conn, g.seg).Check()
		sysvshm.Free(g.data)
		g.data = nil
	}
}

func fillBlack(dst *image.RGBA, w, h int) {
	for y := 0; y < h; y++ {
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:w*4]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = 0, 0, 0, 0xff
		}
	}
}
