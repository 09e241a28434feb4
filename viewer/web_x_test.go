package viewer_test

import (
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// xclient is a test's own X connection: windows that record what the viewer made happen.
type xclient struct {
	t       testing.TB
	display string
	conn    *xgb.Conn
	screen  *xproto.ScreenInfo
	events  chan xgb.Event
}

func newXClient(t testing.TB, display string) *xclient {
	t.Helper()
	xgb.Logger.SetOutput(discard{}) // "Could not get authority info" is noise on Xvfb
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("x client: %v", err)
	}
	c := &xclient{t: t, display: display, conn: conn, screen: xproto.Setup(conn).DefaultScreen(conn), events: make(chan xgb.Event, 1024)}
	go func() {
		defer close(c.events)
		for {
			ev, xerr := conn.WaitForEvent()
			if ev == nil && xerr == nil {
				return
			}
			if ev != nil {
				c.events <- ev
			}
		}
	}()
	t.Cleanup(conn.Close)
	return c
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// window creates and maps an override-redirect window of one colour (0xRRGGBB) that listens for
// mask, and waits until it is viewable.
func (c *xclient) window(x, y, w, h int, rgb uint32, mask uint32) xproto.Window {
	c.t.Helper()
	win, err := xproto.NewWindowId(c.conn)
	if err != nil {
		c.t.Fatal(err)
	}
	err = xproto.CreateWindowChecked(c.conn, c.screen.RootDepth, win, c.screen.Root, int16(x), int16(y), uint16(w), uint16(h), 0,
		xproto.WindowClassInputOutput, c.screen.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{rgb, 1, mask | xproto.EventMaskExposure}).Check()
	if err != nil {
		c.t.Fatal(err)
	}
	xproto.MapWindow(c.conn, win)
	c.wait(10*time.Second, func(ev xgb.Event) bool { e, ok := ev.(xproto.ExposeEvent); return ok && e.Window == win })
	return win
}

// wait returns the first event match accepts, failing the test after d.
func (c *xclient) wait(d time.Duration, match func(xgb.Event) bool) xgb.Event {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatal("x client: connection closed")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			c.t.Fatalf("x client: no matching event in %v", d)
		}
	}
}

// pointer is where the X server has the pointer.
func (c *xclient) pointer() (int, int) {
	c.t.Helper()
	r, err := xproto.QueryPointer(c.conn, c.screen.Root).Reply()
	if err != nil {
		c.t.Fatal(err)
	}
	return int(r.RootX), int(r.RootY)
}
