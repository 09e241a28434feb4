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
	"github.com/assistkit/assist/rdp"
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

	// Reused by each read, so that a capture allocates nothing of its own.
	frame      frame
	one        [1]image.Rectangle
	shmCookies []shm.GetImageCookie
	cookies    []xproto.GetImageCookie
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

// Grab reads the pixels of areas (root-window coordinates) for the framebuffer side to convert
// band by band as it diffs them (rdp.Grabber). The next Grab or Capture waits for the frame's
// Release.
func (d *Desktop) Grab(areas []image.Rectangle) (rdp.Frame, error) {
	f, err := d.grab.grabAreas(areas)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// frame is what grabAreas read: where each area's part on the screen is in the grabber's
// memory. It holds the grabber's lock until release.
type frame struct {
	g     *grabber
	parts []grabbed
}

type grabbed struct {
	area, in image.Rectangle // the area asked for, and its part on the screen
	pix      []byte          // in's pixels, rows packed, 4 bytes a pixel
}

func (g *grabber) capture(dst *image.RGBA, r image.Rectangle) error {
	if dst.Rect.Dx() < r.Dx() || dst.Rect.Dy() < r.Dy() {
		return fmt.Errorf("xdesktop: capture %v into a %v image", r, dst.Rect)
	}
	g.one[0] = r
	f, err := g.grabAreas(g.one[:])
	if err != nil {
		return err
	}
	defer f.Release()
	// dst seen with r's coordinates, as Convert writes.
	view := image.RGBA{Pix: dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y):], Stride: dst.Stride, Rect: r}
	f.Convert(&view, r)
	return nil
}

// grabAreas reads the pixels of areas, all requests sent before the first reply is read. With
// MIT-SHM they go one after another into the segment.
func (g *grabber) grabAreas(areas []image.Rectangle) (*frame, error) {
	if g.format != nil {
		return nil, g.format
	}
	g.mu.Lock()
	f := &g.frame
	f.g, f.parts = g, f.parts[:0]
	size, screen := 0, g.bounds()
	for _, a := range areas {
		in := a.Intersect(screen)
		f.parts = append(f.parts, grabbed{area: a, in: in})
		size += in.Dx() * in.Dy() * 4
	}
	if err := g.read(f.parts, size); err != nil {
		g.mu.Unlock()
		return nil, fmt.Errorf("xdesktop: capture %v: %w", areas, err)
	}
	return f, nil
}

// Convert writes the pixels of r, within the areas grabbed, into dst at r. It reads only what
// grabAreas left, so calls for disjoint rectangles may run at once.
func (f *frame) Convert(dst *image.RGBA, r image.Rectangle) {
	for _, p := range f.parts {
		a := r.Intersect(p.area)
		if a.Empty() {
			continue
		}
		on := a.Intersect(p.in)
		if on != a {
			fillBlack(dst, a)
		}
		if on.Empty() {
			continue
		}
		w := p.in.Dx()
		src := p.pix[((on.Min.Y-p.in.Min.Y)*w+on.Min.X-p.in.Min.X)*4:]
		for y := range on.Dy() {
			bgrx.ToRGBA(dst.Pix[dst.PixOffset(on.Min.X, on.Min.Y+y):], src[y*w*4:], on.Dx())
		}
	}
}

// Release lets the grabber read again.
func (f *frame) Release() {
	f.parts = f.parts[:0]
	f.g.mu.Unlock()
}

// read fills each part's pix with the pixels of its on-screen rectangle, size bytes in all.
// With MIT-SHM the parts follow one another in the segment, valid until the next read.
func (g *grabber) read(parts []grabbed, size int) error {
	if g.useSHM {
		if err := g.ensureSegment(size); err != nil {
			g.log.Warn("MIT-SHM segment failed, capturing with GetImage", "err", err)
			g.useSHM = false
		} else {
			g.shmCookies = g.shmCookies[:0]
			off := 0
			for i := range parts {
				r := parts[i].in
				n := r.Dx() * r.Dy() * 4
				parts[i].pix = g.data[off : off+n]
				if n > 0 {
					g.shmCookies = append(g.shmCookies, shm.GetImage(g.conn, g.root, int16(r.Min.X), int16(r.Min.Y),
						uint16(r.Dx()), uint16(r.Dy()), 0xffffffff, xproto.ImageFormatZPixmap, g.seg, uint32(off)))
				}
				off += n
			}
			var first error
			for _, c := range g.shmCookies {
				if _, err := c.Reply(); err != nil && first == nil {
					first = fmt.Errorf("shm get image: %w", err)
				}
			}
			return first
		}
	}
	g.cookies = g.cookies[:0]
	for _, p := range parts {
		if r := p.in; !r.Empty() {
			g.cookies = append(g.cookies, xproto.GetImage(g.conn, xproto.ImageFormatZPixmap, g.root, int16(r.Min.X), int16(r.Min.Y),
				uint16(r.Dx()), uint16(r.Dy()), 0xffffffff))
		}
	}
	var first error
	k := 0
	for i := range parts {
		r := parts[i].in
		if r.Empty() {
			continue
		}
		reply, err := g.cookies[k].Reply()
		k++
		switch {
		case err != nil:
			err = fmt.Errorf("get image: %w", err)
		case len(reply.Data) < r.Dx()*r.Dy()*4:
			err = fmt.Errorf("get image: %d bytes for %d pixels", len(reply.Data), r.Dx()*r.Dy())
		default:
			parts[i].pix = reply.Data
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
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

// fillBlack makes r of dst opaque black.
func fillBlack(dst *image.RGBA, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := dst.Pix[dst.PixOffset(r.Min.X, y):][:r.Dx()*4]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = 0, 0, 0, 0xff
		}
	}
}
