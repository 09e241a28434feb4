package rdp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

var twoMonitors = []Monitor{
	{X: 0, Y: 0, W: 640, H: 480, Primary: true, Name: "A"},
	{X: 640, Y: -100, W: 400, H: 300, Name: "B"},
}

// untilSame pulls updates until the client's image equals the screen and returns the encodings
// seen. A capture may straddle a change, so a few updates are allowed.
func untilSame(t *testing.T, c *FramebufferClient, s *fakeScreen) map[string]int {
	t.Helper()
	encs := map[string]int{}
	want := s.snapshot()
	for i := 0; i < 5 && !samePixels(c, want); i++ {
		u := next(t, c)
		for _, r := range u.Rects {
			encs[r.Enc]++
			if !image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H).In(want.Rect) {
				t.Fatalf("rect %+v outside the screen %v", r, want.Rect)
			}
		}
	}
	if !samePixels(c, want) {
		t.Fatalf("the client's image differs from the screen after 5 updates (encodings %v)", encs)
	}
	return encs
}

func noise(img *image.RGBA, r image.Rectangle, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 9))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
		}
	}
}

// gradient draws an area of many colours in 4×4 blocks: no palette fits, zstd compresses it.
func gradient(img *image.RGBA, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x / 4 * 9), uint8(y / 4 * 11), 90, 255})
		}
	}
}

func TestFramebufferMirrorsScreen(t *testing.T) { testMirrorsScreen(t, newClient, "zstd") }

// TestFramebufferStreamMirrorsScreen: with the stream (version 2) the viewer's image is the
// screen after every kind of change, and everything the agent sent after its hello was stream
// messages.
func TestFramebufferStreamMirrorsScreen(t *testing.T) {
	sn := testMirrorsScreen(t, newStreamClient, "raw")
	if n, all := sn.out.count(wire.TStream), sn.out.total(); n == 0 {
		t.Fatalf("no stream messages among the agent's %d bytes", all)
	}
	for typ, n := range sn.out.countsCopy() {
		if typ != wire.TStream && typ != wire.THello {
			t.Errorf("%d %s messages outside the stream", n, typ)
		}
	}
}

// testMirrorsScreen changes the screen in every way the encoder knows and checks that the
// viewer's image follows; partial is the encoding expected for a gradient (zstd per rectangle,
// or raw inside the stream).
func testMirrorsScreen(t *testing.T, newClient func(*testing.T, io.ReadWriter, int) *FramebufferClient, partial string) *sniffed {
	return testMirrors(t, newFakeScreen(twoMonitors...), newClient, partial)
}

// TestFramebufferGrabberMirrorsScreen: with a Grabber, whose frames are converted band by band
// as the encode diffs them, the viewer's image is the screen after every kind of change, and
// every conversion was of a frame grabbed and not yet released, within its areas.
func TestFramebufferGrabberMirrorsScreen(t *testing.T) {
	g := newGrabbingScreen(twoMonitors...)
	testMirrors(t, g, newStreamClient, "raw")
	if bad := g.bad.Load(); bad != nil {
		t.Error(bad)
	}
	if g.grabs.Load() == 0 || g.converts.Load() <= g.grabs.Load() {
		t.Errorf("%d grabs, %d conversions: want the frames converted in bands", g.grabs.Load(), g.converts.Load())
	}
}

// testMirrors is testMirrorsScreen on the screen given (a fakeScreen, or one embedding it).
func testMirrors(t *testing.T, screen interface {
	Screen
	fake() *fakeScreen
}, newClient func(*testing.T, io.ReadWriter, int) *FramebufferClient, partial string) *sniffed {
	s := screen.fake()
	f := newFont(7)
	text := image.Rect(20, 40, 620, 440)
	s.set(func(img *image.RGBA) { f.drawText(img, text, rand.New(rand.NewPCG(1, 1)), 0.8, termFG, termBG) })
	v, sn, _ := serve(t, screen, FramebufferOptions{PollInterval: 2 * time.Millisecond})
	c := newClient(t, v, 2)
	if got, want := c.Bounds(), image.Rect(0, -100, 1040, 480); got != want {
		t.Fatalf("Bounds = %v, want %v", got, want)
	}
	if got := c.Monitors(); len(got) != 2 || got[1] != twoMonitors[1] {
		t.Fatalf("Monitors = %+v, want %+v", got, twoMonitors)
	}

	steps := []struct {
		name   string
		change func(img *image.RGBA)
		enc    string // an encoding the update must use
	}{
		{"full", func(*image.RGBA) {}, "palette"},
		{"partial", func(img *image.RGBA) { gradient(img, image.Rect(37, 41, 137, 91)) }, partial},
		{"solid", func(img *image.RGBA) { fillRect(img, image.Rect(128, 128, 256, 256), titleBG) }, "solid"},
		{"glyphs", func(img *image.RGBA) { f.drawGlyph(img, 300, 200, 5, white, termBG) }, "palette"},
		{"scroll", func(img *image.RGBA) {
			copyRect(img, image.Rect(text.Min.X, text.Min.Y, text.Max.X, text.Max.Y-16), image.Pt(text.Min.X, text.Min.Y+16))
			fillRect(img, image.Rect(text.Min.X, text.Max.Y-16, text.Max.X, text.Max.Y), termBG)
			f.drawLine(img, text.Min.X, text.Max.Y-16, 60, rand.New(rand.NewPCG(2, 2)), 1, termFG, termBG)
		}, "copy"},
		{"second monitor", func(img *image.RGBA) { noise(img, image.Rect(700, -90, 1000, -20), 2) }, "raw"},
		{"both monitors", func(img *image.RGBA) {
			fillRect(img, image.Rect(600, 100, 700, 180), white)
			f.drawGlyph(img, 900, 150, 9, black, white)
		}, "solid"},
	}
	for _, st := range steps {
		t.Logf("step %s", st.name)
		s.set(st.change)
		encs := untilSame(t, c, s)
		if encs[st.enc] == 0 {
			t.Errorf("%s: encodings %v, want some %q", st.name, encs, st.enc)
		}
	}
	return sn
}

func TestFramebufferSelectMonitor(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	v, _, _ := serve(t, s, FramebufferOptions{PollInterval: 2 * time.Millisecond})
	c := newClient(t, v, 2)
	if err := c.SelectMonitor(1); err != nil {
		t.Fatal(err)
	}
	if err := c.SelectMonitor(2); err == nil || !strings.Contains(err.Error(), "no monitor 2") {
		t.Errorf("SelectMonitor(2) = %v, want an error", err)
	}
	mon := twoMonitors[1].Bounds()
	for i := 0; i < 3; i++ {
		s.set(func(img *image.RGBA) { noise(img, img.Rect, uint64(i)) })
		want := s.snapshot().SubImage(mon).(*image.RGBA)
		for j := 0; ; j++ {
			u := next(t, c)
			for _, r := range u.Rects {
				if !image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H).In(mon) {
					t.Fatalf("rect %+v outside the selected monitor %v", r, mon)
				}
			}
			if samePixels(c, want) {
				break
			}
			if j == 5 {
				t.Fatal("monitor B never matched the screen")
			}
		}
	}
}

func TestFramebufferLayoutChange(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	v, _, _ := serve(t, s, FramebufferOptions{PollInterval: 2 * time.Millisecond, LayoutInterval: 5 * time.Millisecond})
	c := newClient(t, v, 2)
	untilSame(t, c, s)
	one := []Monitor{{X: 0, Y: 0, W: 800, H: 600, Primary: true, Name: "only"}}
	img := image.NewRGBA(one[0].Bounds())
	noise(img, img.Rect, 7)
	s.setLayout(img, one...)
	for i := 0; ; i++ {
		u := next(t, c)
		if u.Layout != nil {
			if len(u.Layout) != 1 || u.Layout[0] != one[0] {
				t.Fatalf("update layout %+v, want %+v", u.Layout, one)
			}
			break
		}
		if i == 5 {
			t.Fatal("no update announced the new layout")
		}
	}
	if c.Bounds() != one[0].Bounds() {
		t.Fatalf("Bounds = %v after the layout change", c.Bounds())
	}
	untilSame(t, c, s)
}

func TestFramebufferIdleSendsNothing(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	v, sn, _ := serve(t, s, FramebufferOptions{PollInterval: time.Millisecond})
	c := newClient(t, v, 2)
	next(t, c)
	captures := s.watchCaptures(0)
	t.Cleanup(s.stopWatching) // before serve's cleanup waits for the agent's loop
	<-captures                // the loop is past the first update's write
	sent := sn.out.total()
	for i := 0; i < 10; i++ {
		<-captures // ten polls of an unchanged screen
	}
	if got := sn.out.total(); got != sent {
		t.Errorf("an idle screen sent %d bytes", got-sent)
	}
	if n := sn.out.count(wire.TUpdateEnd); n != 1 {
		t.Errorf("%d updates, want 1", n)
	}
}

func TestFramebufferChangeWaiterCapturesOnlyDamage(t *testing.T) {
	ws := &waitingScreen{fakeScreen: newFakeScreen(twoMonitors...), changes: make(chan []image.Rectangle, 1)}
	v, _, _ := serve(t, ws, FramebufferOptions{PollInterval: time.Hour})
	c := newClient(t, v, 2)
	next(t, c)
	captures := ws.watchCaptures(16)
	damage := image.Rect(300, 200, 308, 216)
	ws.set(func(img *image.RGBA) { newFont(7).drawGlyph(img, 300, 200, 4, white, black) })
	ws.changes <- []image.Rectangle{damage}
	u := next(t, c)
	if !samePixels(c, ws.snapshot()) {
		t.Fatal("the client's image differs from the screen")
	}
	if len(u.Rects) != 1 || u.Rects[0].W != 8 || u.Rects[0].H != 16 {
		t.Errorf("rects %+v, want one 8x16 rect", u.Rects)
	}
	r := <-captures
	// Tiles start at the virtual screen's corner, (0,-100).
	if tile := image.Rect(256, 156, 320, 220); !r.In(tile) {
		t.Errorf("captured %v for a change in %v; want only the tile %v", r, damage, tile)
	}
}

func TestFramebufferInFlightLimit(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	v, sn, _ := serve(t, s, FramebufferOptions{PollInterval: time.Millisecond})
	viewer := &sniffed{Conn: v, in: &frameCounter{}, out: &frameCounter{}}
	sent := make(chan struct{}, 64)
	var violation atomic.Value
	sn.out.onMsg = func(typ wire.Type) {
		if typ != wire.TUpdateEnd {
			return
		}
		// Called with the out counter locked: read its counts directly.
		if answered, asked := sn.out.counts[wire.TUpdateEnd], sn.in.count(wire.TUpdateRequest); answered > asked {
			violation.Store(fmt.Sprintf("update %d answers only %d requests", answered, asked))
		}
		sent <- struct{}{}
	}
	c := newClient(t, viewer, 2)
	next(t, c)
	<-sent
	s.set(func(img *image.RGBA) { noise(img, image.Rect(0, 0, 64, 64), 1) })
	<-sent // the second request is answered with that change
	// The viewer stalls while the screen changes twenty times: nothing may be queued for it.
	for i := 2; i < 22; i++ {
		s.set(func(img *image.RGBA) { noise(img, image.Rect(0, 0, 64, 64), uint64(i)) })
	}
	// The pull in flight during the stall may be answered with any of the twenty screens, as
	// soon as one changed; what it may not be is a queue of them. So after the buffered answer
	// to request 2, at most two more pulls bring the newest frame, and the viewer got no more
	// updates than that.
	next(t, c) // the buffered answer to request 2
	pulls := 1
	for ; !samePixels(c, s.snapshot()); pulls++ {
		if pulls == 3 {
			t.Fatal("after the stall, three pulls do not show the newest frame")
		}
		next(t, c)
	}
	if n := viewer.in.count(wire.TUpdateEnd); n > 1+pulls {
		t.Errorf("the viewer received %d updates for %d pulls; stale frames were queued", n, 1+pulls)
	}
	if v := violation.Load(); v != nil {
		t.Error(v)
	}
}

func TestFramebufferCursor(t *testing.T) {
	cs := &cursorScreen{fakeScreen: newFakeScreen(twoMonitors...), x: 10, y: 20, serial: 1,
		shape: image.NewRGBA(image.Rect(0, 0, 12, 20)), hotX: 1, hotY: 2}
	fill(cs.shape, cs.shape.Rect, [3]byte{255, 255, 255})
	v, _, _ := serve(t, cs, FramebufferOptions{PollInterval: 2 * time.Millisecond, CursorInterval: time.Millisecond})
	c := newClient(t, v, 2)
	u := next(t, c)
	if u.Cursor == nil || !u.Cursor.Shape || u.Cursor.X != 10 || u.Cursor.Y != 20 {
		t.Fatalf("first update cursor %+v, want shape at 10,20", u.Cursor)
	}
	got := c.Cursor()
	if got.Shape == nil || got.Shape.Rect.Dx() != 12 || got.HotX != 1 || got.HotY != 2 || got.Shape.RGBAAt(3, 3) != white {
		t.Fatalf("Cursor() = %+v", got)
	}
	cs.cmu.Lock()
	cs.x, cs.y = 500, -50
	cs.cmu.Unlock()
	u = next(t, c)
	if u.Cursor == nil || u.Cursor.Shape || u.Cursor.X != 500 || u.Cursor.Y != -50 || len(u.Rects) != 0 {
		t.Fatalf("after a move: cursor %+v rects %d, want a move to 500,-50 only", u.Cursor, len(u.Rects))
	}
	cs.cmu.Lock()
	cs.shape, cs.serial = nil, 2
	cs.cmu.Unlock()
	u = next(t, c)
	if u.Cursor == nil || !u.Cursor.Shape || c.Cursor().Shape != nil {
		t.Fatalf("after hiding: cursor %+v, Cursor().Shape %v", u.Cursor, c.Cursor().Shape)
	}
}

func TestUpdateTraceJSON(t *testing.T) {
	u := Update{Time: 42, Rects: []RectInfo{{X: 1, Y: 2, W: 3, H: 4, Enc: "zstd", Bytes: 99}}}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"t":42,"rects":[{"x":1,"y":2,"w":3,"h":4,"enc":"zstd","bytes":99}]}`; string(b) != want {
		t.Errorf("trace line %s, want %s", b, want)
	}
}

func TestFramebufferViewerCloseEndsServe(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	v, _, wait := serve(t, s, FramebufferOptions{})
	c := newClient(t, v, 1)
	next(t, c)
	c.Close()
	if err := wait(); err != nil {
		t.Errorf("ServeFramebuffer = %v after the viewer closed, want nil", err)
	}
}

func TestFramebufferRejectsWrongChannelAndMessages(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	v, _, wait := serve(t, s, FramebufferOptions{})
	conn := newConn(v)
	if _, err := conn.handshake(wire.KindInput, 0, true); err == nil ||
		!strings.Contains(err.Error(), "peer speaks the input protocol on the framebuffer channel") {
		t.Errorf("viewer side: %v", err)
	}
	if err := wait(); err == nil || !strings.Contains(err.Error(), "peer speaks the input protocol on the framebuffer channel") {
		t.Errorf("ServeFramebuffer = %v", err)
	}

	v, _, wait = serve(t, s, FramebufferOptions{})
	conn = newConn(v)
	if _, err := conn.handshake(wire.KindFramebuffer, viewerCaps&^wire.CapStream, true); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.read(); err != nil { // layout
		t.Fatal(err)
	}
	if err := conn.write(&wire.Key{Keysym: 'a', Down: true}); err != nil {
		t.Fatal(err)
	}
	m, err := conn.read()
	cl, ok := m.(*wire.Close)
	if err != nil || !ok || cl.Code != wire.CloseProtocol || !strings.Contains(cl.Reason, "unexpected key message") {
		t.Errorf("after a key on the framebuffer channel: %+v, %v; want a close with the reason", m, err)
	}
	var pe *protocolError
	if err := wait(); !errors.As(err, &pe) {
		t.Errorf("ServeFramebuffer = %v, want a protocol error", err)
	}
}

func TestFramebufferCanceledContext(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	a, v := net.Pipe()
	defer v.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeFramebuffer(ctx, a, s, FramebufferOptions{}) }()
	c := newClient(t, v, 2)
	next(t, c)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ServeFramebuffer = %v, want context.Canceled", err)
	}
	if _, err := c.Next(context.Background()); err == nil {
		t.Error("Next after the agent ended: no error")
	}
}
