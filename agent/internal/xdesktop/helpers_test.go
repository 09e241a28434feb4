package xdesktop

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/assistkit/assist/internal/harness/xvfb"
)

// openTest starts an Xvfb with args and opens a Desktop on it.
func openTest(t testing.TB, args ...string) *Desktop {
	t.Helper()
	display := xvfb.ForTest(t, args...)
	d, err := Open(display, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatalf("open %s: %v", display, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// client is a second X client for tests: it draws, and owns windows that record events.
type client struct {
	t      testing.TB
	conn   *xgb.Conn
	screen *xproto.ScreenInfo
	events chan xgb.Event
}

func newClient(t testing.TB, display string) *client {
	t.Helper()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("test client: %v", err)
	}
	c := &client{t: t, conn: conn, screen: xproto.Setup(conn).DefaultScreen(conn), events: make(chan xgb.Event, 1024)}
	go func() {
		defer close(c.events)
		for {
			ev, xerr := conn.WaitForEvent()
			if ev == nil && xerr == nil {
				return
			}
			if xerr != nil {
				t.Errorf("test client: x error: %v", xerr)
				continue
			}
			c.events <- ev
		}
	}()
	t.Cleanup(conn.Close)
	return c
}

// window creates and maps a window with the event mask and waits until it is viewable.
func (c *client) window(x, y, w, h int, mask uint32) xproto.Window {
	c.t.Helper()
	win, err := xproto.NewWindowId(c.conn)
	if err != nil {
		c.t.Fatal(err)
	}
	err = xproto.CreateWindowChecked(c.conn, c.screen.RootDepth, win, c.screen.Root, int16(x), int16(y), uint16(w), uint16(h), 0,
		xproto.WindowClassInputOutput, c.screen.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{0x203040, 1, mask | xproto.EventMaskExposure}).Check()
	if err != nil {
		c.t.Fatal(err)
	}
	xproto.MapWindow(c.conn, win)
	c.wait(func(ev xgb.Event) bool { e, ok := ev.(xproto.ExposeEvent); return ok && e.Window == win })
	return win
}

// wait returns the first event that match accepts, failing the test after 10 s.
func (c *client) wait(match func(xgb.Event) bool) xgb.Event {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatal("test client: connection closed")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			c.t.Fatal("test client: timed out waiting for an event")
		}
	}
}

// put draws a packed 32-bit BGRX image at (x, y) on the root window, in bands that fit one
// request, and waits until the server has done it.
func (c *client) put(x, y, w, h int, bgrx []byte) {
	c.t.Helper()
	gc, _ := xproto.NewGcontextId(c.conn)
	xproto.CreateGC(c.conn, gc, xproto.Drawable(c.screen.Root), 0, nil)
	defer xproto.FreeGC(c.conn, gc)
	rows := max(1, 200000/(w*4))
	for y0 := 0; y0 < h; y0 += rows {
		n := min(rows, h-y0)
		xproto.PutImage(c.conn, xproto.ImageFormatZPixmap, xproto.Drawable(c.screen.Root), gc, uint16(w), uint16(n),
			int16(x), int16(y+y0), 0, c.screen.RootDepth, bgrx[y0*w*4:(y0+n)*w*4])
	}
	if _, err := xproto.GetInputFocus(c.conn).Reply(); err != nil {
		c.t.Fatal(err)
	}
}
