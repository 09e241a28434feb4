package workload

import (
	"fmt"
	"image"
	"io"
	"log"
	"sync"
	"time"

	"github.com/assistkit/assist/internal/sysvshm"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xproto"
)

// surface is a window covering the screen and a canvas that mirrors it. Changes are drawn in
// the canvas and sent with put; with MIT-SHM the canvas lives in a segment the server reads.
type surface struct {
	conn   *xgb.Conn
	win    xproto.Window
	gc     xproto.Gcontext
	depth  byte
	canvas *canvas

	shmID  int
	seg    shm.Seg
	useSHM bool
}

// silenceXGB quiets xgb's package-level logger, which prints "Could not get authority info" on
// every connection to a display without an Xauthority entry; xgb has no per-connection logger,
// so this is set once, before the first connection.
var silenceXGB = sync.OnceFunc(func() { xgb.Logger = log.New(io.Discard, "", 0) })

func openSurface(display string) (*surface, error) {
	silenceXGB()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("cannot open X display %q: %w\nhint: is Xvfb or the X session running, and DISPLAY right?", display, err)
	}
	s := &surface{conn: conn}
	if err := s.init(); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (s *surface) init() error {
	screen := xproto.Setup(s.conn).DefaultScreen(s.conn)
	w, h := int(screen.WidthInPixels), int(screen.HeightInPixels)
	s.depth = screen.RootDepth
	if s.depth != 24 && s.depth != 32 {
		return fmt.Errorf("screen depth %d, want 24", s.depth)
	}
	s.canvas = &canvas{w: w, h: h}
	if err := s.attachSHM(w * h * 4); err != nil {
		s.canvas.pix = make([]byte, w*h*4)
	}
	var err error
	if s.win, err = xproto.NewWindowId(s.conn); err != nil {
		return fmt.Errorf("window id: %w", err)
	}
	// Override-redirect: no window manager moves or decorates it; it covers the whole screen.
	err = xproto.CreateWindowChecked(s.conn, s.depth, s.win, screen.Root, 0, 0, uint16(w), uint16(h), 0,
		xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect,
		[]uint32{0, 1}).Check()
	if err != nil {
		return fmt.Errorf("create window: %w", err)
	}
	if s.gc, err = xproto.NewGcontextId(s.conn); err != nil {
		return fmt.Errorf("gc id: %w", err)
	}
	// No GraphicsExposures: CopyArea would otherwise send a NoExposure event per scroll.
	err = xproto.CreateGCChecked(s.conn, s.gc, xproto.Drawable(s.win), xproto.GcGraphicsExposures, []uint32{0}).Check()
	if err != nil {
		return fmt.Errorf("create gc: %w", err)
	}
	if err := xproto.MapWindowChecked(s.conn, s.win).Check(); err != nil {
		return fmt.Errorf("map window: %w", err)
	}
	go s.drain()
	return nil
}

// drain reads and drops events and errors so xgb's queue never fills.
func (s *surface) drain() {
	for {
		ev, xerr := s.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			return
		}
	}
}

func (s *surface) attachSHM(size int) error {
	if err := shm.Init(s.conn); err != nil {
		return err
	}
	id, data, err := sysvshm.Alloc(size)
	if err != nil {
		return err
	}
	seg, err := shm.NewSegId(s.conn)
	if err == nil {
		err = shm.AttachChecked(s.conn, seg, uint32(id), true).Check()
	}
	sysvshm.Release(id)
	if err != nil {
		sysvshm.Free(data)
		return err
	}
	s.canvas.pix, s.seg, s.useSHM = data, seg, true
	return nil
}

// put sends the canvas's pixels of r to the window.
func (s *surface) put(r image.Rectangle) {
	c := s.canvas
	if s.useSHM {
		shm.PutImage(s.conn, xproto.Drawable(s.win), s.gc, uint16(c.w), uint16(c.h), uint16(r.Min.X), uint16(r.Min.Y),
			uint16(r.Dx()), uint16(r.Dy()), int16(r.Min.X), int16(r.Min.Y), s.depth, xproto.ImageFormatZPixmap, 0, s.seg, 0)
		return
	}
	// Without SHM: bands that fit a core request (at most 256 KiB), rows packed.
	rows := max(1, (256<<10-64)/(r.Dx()*4))
	buf := make([]byte, 0, rows*r.Dx()*4)
	for y0 := r.Min.Y; y0 < r.Max.Y; y0 += rows {
		n := min(rows, r.Max.Y-y0)
		buf = buf[:0]
		for y := y0; y < y0+n; y++ {
			buf = append(buf, c.pix[(y*c.w+r.Min.X)*4:(y*c.w+r.Max.X)*4]...)
		}
		xproto.PutImage(s.conn, xproto.ImageFormatZPixmap, xproto.Drawable(s.win), s.gc, uint16(r.Dx()), uint16(n),
			int16(r.Min.X), int16(y0), 0, s.depth, buf)
	}
}

// scrollUp moves r's content up by dy pixels, in the server and in the canvas.
func (s *surface) scrollUp(r image.Rectangle, dy int) {
	xproto.CopyArea(s.conn, xproto.Drawable(s.win), xproto.Drawable(s.win), s.gc,
		int16(r.Min.X), int16(r.Min.Y+dy), int16(r.Min.X), int16(r.Min.Y), uint16(r.Dx()), uint16(r.Dy()-dy))
	c := s.canvas
	for y := r.Min.Y; y < r.Max.Y-dy; y++ {
		copy(c.pix[(y*c.w+r.Min.X)*4:(y*c.w+r.Max.X)*4], c.pix[((y+dy)*c.w+r.Min.X)*4:((y+dy)*c.w+r.Max.X)*4])
	}
}

// sync waits until the server has processed everything sent so far and returns that moment.
func (s *surface) sync() (time.Time, error) {
	if _, err := xproto.GetInputFocus(s.conn).Reply(); err != nil {
		return time.Time{}, fmt.Errorf("round trip: %w", err)
	}
	return time.Now(), nil
}

func (s *surface) close() {
	if s.useSHM {
		shm.DetachChecked(s.conn, s.seg).Check()
		sysvshm.Free(s.canvas.pix)
	}
	s.conn.Close()
}
