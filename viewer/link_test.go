package viewer_test

import (
	"context"
	"image"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/viewer"
)

// noiseWindow is a window whose pixels the test sets whole, as a video or an animation does.
type noiseWindow struct {
	x    *xclient
	win  xproto.Window
	gc   xproto.Gcontext
	rect image.Rectangle // on the screen
	bgrx []byte
	rng  *rand.Rand
}

func newNoiseWindow(x *xclient, r image.Rectangle) *noiseWindow {
	x.t.Helper()
	n := &noiseWindow{x: x, win: x.window(r.Min.X, r.Min.Y, r.Dx(), r.Dy(), 0x203040, 0), rect: r,
		bgrx: make([]byte, r.Dx()*r.Dy()*4), rng: rand.New(rand.NewPCG(1, 2))}
	gc, err := xproto.NewGcontextId(x.conn)
	if err != nil {
		x.t.Fatal(err)
	}
	if err := xproto.CreateGCChecked(x.conn, gc, xproto.Drawable(n.win), 0, nil).Check(); err != nil {
		x.t.Fatal(err)
	}
	n.gc = gc
	return n
}

// next makes the next frame of noise and returns it as the viewer should show it; draw sends it.
func (n *noiseWindow) next() *image.RGBA {
	img := image.NewRGBA(n.rect)
	for i := 0; i < len(n.bgrx); i += 4 {
		v := n.rng.Uint32()
		n.bgrx[i], n.bgrx[i+1], n.bgrx[i+2] = byte(v), byte(v>>8), byte(v>>16)
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = byte(v>>16), byte(v>>8), byte(v), 0xff
	}
	return img
}

// draw puts the frame made by next and returns once the X server has it.
func (n *noiseWindow) draw() error {
	xproto.PutImage(n.x.conn, xproto.ImageFormatZPixmap, xproto.Drawable(n.win), n.gc,
		uint16(n.rect.Dx()), uint16(n.rect.Dy()), 0, 0, 0, 24, n.bgrx)
	_, err := xproto.GetInputFocus(n.x.conn).Reply()
	return err
}

// TestDesktopOnBadLink runs a session whose agent is behind the `bad` link (2 Mbit/s, 150 ms
// round trip, jitter, loss as stalls) while a window's pixels change far faster than the link
// can carry them: typing still reaches the person's screen, and once the changes stop the viewer
// shows the final frame within a bound that follows from the link (a few full frames' bytes at
// its rate, a few round trips, two stalls), whatever was drawn before: stale frames are dropped,
// not queued.
func TestDesktopOnBadLink(t *testing.T) {
	prof, err := linkproxy.ProfileNamed("bad")
	if err != nil {
		t.Fatal(err)
	}
	display := xvfb.ForTest(t, "-screen", "0", "800x600x24")
	x := newXClient(t, display)
	keys := x.window(0, 0, 120, 60, 0x808080, xproto.EventMaskKeyPress)
	noise := newNoiseWindow(x, image.Rect(300, 200, 556, 392))
	noise.next()
	if err := noise.draw(); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.DiscardHandler)
	d, closer, err := agent.OpenDesktop(display, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	link, err := linkproxy.StartShaped(g.Addr, prof)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { link.Close() })
	a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView | protocol.GrantControl,
		Routes: agent.DesktopRoutes(d, log), Via: link.Addr})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := viewer.DialOTC(ctx, g.IssueOTC(t, tech, a.Code()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fb, err := s.Framebuffer(0)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	in, err := s.Input()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := fb.Next(ctx); err != nil {
		t.Fatal(err)
	}
	full := float64(fb.WireBytes()) // the whole screen, the layout and the handshake
	bound := time.Duration(4*full/float64(prof.Rate)*float64(time.Second)) + 4*prof.RTT() + 2*prof.Stall + 2*prof.Jitter
	t.Logf("a full frame is %.0f bytes on the wire: %v at %s; bound %v", full, time.Duration(full/float64(prof.Rate)*float64(time.Second)), prof, bound)

	// The viewer pulls all along; once the final frame is known it reports when it shows it.
	var final atomic.Pointer[image.RGBA]
	shown := make(chan time.Time, 1)
	pullErr := make(chan error, 1)
	go func() {
		for {
			if _, err := fb.Next(ctx); err != nil {
				pullErr <- err
				return
			}
			if f := final.Load(); f != nil && sameImage(fb.Snapshot(f.Rect), f) {
				shown <- time.Now()
				return
			}
		}
	}()

	// Typing while the window changes 30 times a second: each frame is about as large as the
	// link carries in half a second.
	const frames = 60
	drawn, drawErr := make(chan time.Time, 1), make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 1; i <= frames; i++ {
			<-tick.C
			f := noise.next()
			if i == frames {
				final.Store(f) // before it is drawn, so the viewer cannot show it unnoticed
			}
			if err := noise.draw(); err != nil {
				drawErr <- err
				return
			}
		}
		drawn <- time.Now()
	}()
	if err := in.Pointer(60, 30, 0); err != nil { // X focus follows the pointer (no window manager)
		t.Fatal(err)
	}
	typed := time.Now()
	if err := in.Type("hello"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		x.wait(bound, func(ev xgb.Event) bool { e, ok := ev.(xproto.KeyPressEvent); return ok && e.Event == keys })
	}
	t.Logf("5 keys typed under changes arrived in %v", time.Since(typed))

	var stopped time.Time
	select {
	case stopped = <-drawn:
	case err := <-drawErr:
		t.Fatal(err)
	}
	select {
	case at := <-shown:
		t.Logf("the final frame showed %v after the last change", at.Sub(stopped))
	case err := <-pullErr:
		t.Fatalf("the viewer's screen failed: %v", err)
	case <-time.After(bound):
		t.Fatalf("the viewer did not show the final frame within %v of the last change", bound)
	}
}

func sameImage(a, b *image.RGBA) bool {
	if a.Rect != b.Rect {
		return false
	}
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		ra := a.Pix[a.PixOffset(a.Rect.Min.X, y):a.PixOffset(a.Rect.Max.X, y)]
		rb := b.Pix[b.PixOffset(b.Rect.Min.X, y):b.PixOffset(b.Rect.Max.X, y)]
		if string(ra) != string(rb) {
			return false
		}
	}
	return true
}
