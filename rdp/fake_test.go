package rdp

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// fakeScreen is an in-memory Screen. Tests change its pixels under its lock with set, so a
// capture never sees half a change.
type fakeScreen struct {
	mu       sync.Mutex
	img      *image.RGBA
	monitors []Monitor
	captures chan image.Rectangle // if set, each capture is reported (non-blocking)
	quit     chan struct{}        // closed by stopWatching: an unbuffered report waits no more
	quitOnce sync.Once
}

func newFakeScreen(monitors ...Monitor) *fakeScreen {
	var b image.Rectangle
	for _, m := range monitors {
		b = b.Union(m.Bounds())
	}
	s := &fakeScreen{img: image.NewRGBA(b), monitors: monitors, quit: make(chan struct{})}
	fill(s.img, b, [3]byte{10, 20, 30})
	return s
}

func (s *fakeScreen) fake() *fakeScreen { return s }

func (s *fakeScreen) Monitors() ([]Monitor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Monitor(nil), s.monitors...), nil
}

func (s *fakeScreen) Capture(dst *image.RGBA, r image.Rectangle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.In(s.img.Rect) {
		return fmt.Errorf("capture %v outside the screen %v", r, s.img.Rect)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(rowBytes(dst, 0, r.Dx(), y-r.Min.Y), rowBytes(s.img, r.Min.X, r.Max.X, y))
	}
	if s.captures != nil {
		if cap(s.captures) == 0 {
			select { // unbuffered: the test waits for each capture, until it stops watching
			case s.captures <- r:
			case <-s.quit:
			}
		} else {
			select {
			case s.captures <- r:
			default:
			}
		}
	}
	return nil
}

// watchCaptures makes every capture from now on be reported on the returned channel.
func (s *fakeScreen) watchCaptures(buffer int) chan image.Rectangle {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.captures = make(chan image.Rectangle, buffer)
	return s.captures
}

// stopWatching releases a capture waiting for the test to take its report, so the agent's loop
// can end; a test that watches unbuffered registers it as a cleanup.
func (s *fakeScreen) stopWatching() { s.quitOnce.Do(func() { close(s.quit) }) }

// set changes the screen atomically.
func (s *fakeScreen) set(f func(img *image.RGBA)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.img)
}

// setLayout replaces the monitors and the image.
func (s *fakeScreen) setLayout(img *image.RGBA, monitors ...Monitor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.img, s.monitors = img, monitors
}

func (s *fakeScreen) snapshot() *image.RGBA {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRGBA(s.img)
}

// waitingScreen adds ChangeWaiter: tests call changed after set.
type waitingScreen struct {
	*fakeScreen
	changes chan []image.Rectangle
}

func (s *waitingScreen) WaitChange(ctx context.Context) ([]image.Rectangle, error) {
	select {
	case r := <-s.changes:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cursorScreen adds CursorSource.
type cursorScreen struct {
	*fakeScreen
	cmu        sync.Mutex
	x, y       int
	shape      *image.RGBA
	hotX, hotY int
	serial     uint64
}

func (s *cursorScreen) Cursor() (int, int, *image.RGBA, int, int, uint64, error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.x, s.y, s.shape, s.hotX, s.hotY, s.serial, nil
}

// frameCounter watches one direction of a channel and counts frames by type.
type frameCounter struct {
	mu     sync.Mutex
	buf    []byte
	counts map[wire.Type]int
	bytes  int
	onMsg  func(wire.Type)
	keep   bool // keep every message in msgs
	msgs   [][]byte
}

func (c *frameCounter) add(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[wire.Type]int{}
	}
	c.bytes += len(p)
	c.buf = append(c.buf, p...)
	for len(c.buf) >= 5 {
		n := int(binary.BigEndian.Uint32(c.buf))
		if len(c.buf) < 4+n {
			break
		}
		t := wire.Type(c.buf[4])
		c.counts[t]++
		if c.keep {
			c.msgs = append(c.msgs, slices.Clone(c.buf[:4+n]))
		}
		c.buf = c.buf[4+n:]
		if c.onMsg != nil {
			c.onMsg(t)
		}
	}
}

// kept is a copy of the messages kept so far.
func (c *frameCounter) kept() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

func (c *frameCounter) count(t wire.Type) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[t]
}

func (c *frameCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// sniffed wraps one end of a pipe, counting what is read and written.
func (c *frameCounter) countsCopy() map[wire.Type]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

type sniffed struct {
	net.Conn
	in, out *frameCounter
}

func (s *sniffed) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	s.in.add(p[:n])
	return n, err
}

// Write counts p before it is written, so that whatever the viewer received is counted.
func (s *sniffed) Write(p []byte) (int, error) {
	s.out.add(p)
	return s.Conn.Write(p)
}

// serve runs ServeFramebuffer on one end of a pipe and returns the other end, the agent side's
// counters, and a function that waits for ServeFramebuffer's result.
func serve(t *testing.T, screen Screen, opts FramebufferOptions) (net.Conn, *sniffed, func() error) {
	t.Helper()
	a, v := net.Pipe()
	sn := &sniffed{Conn: a, in: &frameCounter{}, out: &frameCounter{keep: opts.KeyBatchRatio > 0}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var result error
	go func() { result = ServeFramebuffer(ctx, sn, screen, opts); close(done) }()
	wait := func() error {
		select {
		case <-done:
			return result
		case <-time.After(10 * time.Second):
			t.Fatal("ServeFramebuffer did not return")
			return nil
		}
	}
	t.Cleanup(func() {
		cancel()
		v.Close()
		<-done
	})
	return v, sn, wait
}

// newClient is a viewer of protocol version 1's framing (no stream), so that tests can count
// and inspect the agent's messages on the wire; newStreamClient speaks the stream.
func newClient(t *testing.T, rw io.ReadWriter, inFlight int) *FramebufferClient {
	t.Helper()
	return newClientCaps(t, rw, inFlight, viewerCaps&^wire.CapStream)
}

func newStreamClient(t *testing.T, rw io.ReadWriter, inFlight int) *FramebufferClient {
	t.Helper()
	return newClientCaps(t, rw, inFlight, viewerCaps)
}

func newClientCaps(t *testing.T, rw io.ReadWriter, inFlight int, caps uint64) *FramebufferClient {
	t.Helper()
	c, err := newFramebufferClient(rw, inFlight, caps)
	if err != nil {
		t.Fatalf("NewFramebufferClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func next(t *testing.T, c *FramebufferClient) Update {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return u
}

// samePixels reports whether the client's image equals want, byte for byte.
func samePixels(c *FramebufferClient, want *image.RGBA) bool {
	got := c.Snapshot(want.Rect)
	if got.Rect != want.Rect {
		return false
	}
	for y := want.Rect.Min.Y; y < want.Rect.Max.Y; y++ {
		if !bytes.Equal(rowBytes(got, want.Rect.Min.X, want.Rect.Max.X, y), rowBytes(want, want.Rect.Min.X, want.Rect.Max.X, y)) {
			return false
		}
	}
	return true
}

// grabbingScreen adds Grabber: Grab reads the areas as an X server hands out pixels (bytes B, G,
// R and a pad byte that is not alpha), and the frame converts them. It counts the conversions
// and checks each lies within the areas grabbed, and that a frame is released before the next
// Grab.
type grabbingScreen struct {
	*fakeScreen
	frame    grabbedFrame
	grabs    atomic.Int64
	converts atomic.Int64
	bad      atomic.Value // a string: what a Convert did wrong
}

type grabbedFrame struct {
	s     *grabbingScreen
	areas []image.Rectangle
	pix   [][]byte // per area, its rows packed, 4 bytes a pixel
	held  atomic.Bool
}

func newGrabbingScreen(monitors ...Monitor) *grabbingScreen {
	s := &grabbingScreen{fakeScreen: newFakeScreen(monitors...)}
	s.frame.s = s
	return s
}

func (s *grabbingScreen) Grab(areas []image.Rectangle) (Frame, error) {
	f := &s.frame
	if f.held.Swap(true) {
		s.bad.Store("Grab while the frame before was not released")
	}
	s.grabs.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	f.areas, f.pix = append(f.areas[:0], areas...), f.pix[:0]
	for _, a := range areas {
		if !a.In(s.img.Rect) {
			return nil, fmt.Errorf("grab %v outside the screen %v", a, s.img.Rect)
		}
		b := make([]byte, 0, a.Dx()*a.Dy()*4)
		for y := a.Min.Y; y < a.Max.Y; y++ {
			for x := a.Min.X; x < a.Max.X; x++ {
				p := s.img.Pix[s.img.PixOffset(x, y):]
				b = append(b, p[2], p[1], p[0], byte(x^y))
			}
		}
		f.pix = append(f.pix, b)
	}
	return f, nil
}

func (f *grabbedFrame) Convert(dst *image.RGBA, r image.Rectangle) {
	f.s.converts.Add(1)
	if !f.held.Load() {
		f.s.bad.Store(fmt.Sprintf("Convert %v of a released frame", r))
	}
	for k, a := range f.areas {
		if !r.In(a) {
			continue
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			src := f.pix[k][((y-a.Min.Y)*a.Dx()+r.Min.X-a.Min.X)*4:]
			d := dst.Pix[dst.PixOffset(r.Min.X, y):]
			for i := range r.Dx() {
				d[4*i], d[4*i+1], d[4*i+2], d[4*i+3] = src[4*i+2], src[4*i+1], src[4*i], 0xff
			}
		}
		return
	}
	f.s.bad.Store(fmt.Sprintf("Convert %v outside the areas grabbed %v", r, f.areas))
}

func (f *grabbedFrame) Release() { f.held.Store(false) }
