package rdp

import (
	"context"
	"errors"
	"image"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// heapAfterGC is the live heap once the collector has run: what sessions left behind.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC() // the first may only queue finalizers that free more
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// trackedScreen counts the WaitChange calls running: a session's must end with the session,
// since the screen serves the next one.
type trackedScreen struct {
	*waitingScreen
	waiting atomic.Int32
}

func (s *trackedScreen) WaitChange(ctx context.Context) ([]image.Rectangle, error) {
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	return s.waitingScreen.WaitChange(ctx)
}

// session is one viewer session over real loopback TCP: the agent's ServeFramebuffer on
// one end, a stream-speaking viewer on the other, pulling the whole desktop and then every
// change of a few scenes, then closing. It returns once both sides have ended.
func session(t *testing.T, s *trackedScreen, variant uint64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		a, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		served <- ServeFramebuffer(context.Background(), a, s, FramebufferOptions{PollInterval: 2 * time.Millisecond})
	}()
	v, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewFramebufferClient(v, 2)
	if err != nil {
		t.Fatalf("NewFramebufferClient: %v", err)
	}
	for i := range uint64(3) {
		scene := desktop(1920, 1080, variant*10+i)
		s.set(func(img *image.RGBA) { copy(img.Pix, scene.Pix) })
		s.changes <- []image.Rectangle{scene.Rect}
		untilSame(t, c, s.fakeScreen)
	}
	c.Close()
	select {
	case err := <-served:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ServeFramebuffer: %v", err)
		}
		if n := s.waiting.Load(); n != 0 {
			t.Fatalf("ServeFramebuffer returned with %d WaitChange calls running", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeFramebuffer did not return after the viewer closed")
	}
	// The viewer's read loop ends when the agent's side closes the connection.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, err := c.Next(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the viewer's read loop did not end")
			}
			break
		}
	}
}

// TestFramebufferSessionsLeaveHeap: twenty connect/disconnect cycles leave the agent's heap
// and goroutines where the first left them. Each session's stream holds an 8 MiB zstd window
// and a 1080p mirror of the viewer's image (8 MiB) while it lives, so a session not released
// shows as ~16 MiB a cycle; the tolerance (4 MiB + 10% of the heap after the first) is a
// fraction of one session.
func TestFramebufferSessionsLeaveHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("twenty 1080p sessions")
	}
	// A ChangeWaiter, as the X11 screen is: its WaitChange runs on a goroutine of each session.
	s := &trackedScreen{waitingScreen: &waitingScreen{newFakeScreen(Monitor{W: 1920, H: 1080, Primary: true, Name: "m"}), make(chan []image.Rectangle, 1)}}
	session(t, s, 0)
	heap0, gor0 := heapAfterGC(), runtime.NumGoroutine()
	for i := range uint64(19) {
		session(t, s, i+1)
	}
	// A goroutine that ends after its connection closed may still be on its way out.
	gor := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); gor > gor0 && time.Now().Before(deadline); gor = runtime.NumGoroutine() {
		runtime.Gosched()
	}
	heap := heapAfterGC()
	runtime.KeepAlive(s)
	t.Logf("heap after 1 session %.1f MiB, after 20 %.1f MiB; goroutines %d, %d", mib(heap0), mib(heap), gor0, gor)
	if limit := heap0 + 4<<20 + heap0/10; heap > limit {
		t.Errorf("heap after 20 sessions %.1f MiB, over %.1f MiB (after the first %.1f MiB)", mib(heap), mib(limit), mib(heap0))
	}
	if gor > gor0 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after 20 sessions, %d after the first:\n%s", gor, gor0, buf[:runtime.Stack(buf, true)])
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// signalWriter drops what it is sent and says when a write of at least min bytes (an update,
// not the hello or the layout) has come.
type signalWriter struct {
	min  int
	done chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if len(p) >= w.min {
		w.once.Do(func() { close(w.done) })
	}
	return len(p), nil
}

// TestFramebufferReleasedOnReturn: once ServeFramebuffer returns, what the session held (the
// mirror, the capture, the stream's window: over 24 MiB at 1080p) is garbage, even while its
// read loop is still blocked on a channel that has not closed. The agent hands memory back to
// the system at that moment; a read loop keeping the session alive made that miss most of it.
func TestFramebufferReleasedOnReturn(t *testing.T) {
	screen := newFakeScreen(Monitor{W: 1920, H: 1080, Primary: true})
	scene := desktop(1920, 1080, 3)
	screen.set(func(img *image.RGBA) { copy(img.Pix, scene.Pix) })
	// The viewer's hello and a full request, then a read that blocks until the test ends it:
	// a channel without Close, so nothing ServeFramebuffer does unblocks its read loop.
	var hello []byte
	hello = wire.Append(hello, &wire.Hello{Kind: wire.KindFramebuffer, Version: wire.Version,
		Caps: wire.CapSolid | wire.CapCopy | wire.CapPalette | wire.CapStream})
	hello = wire.Append(hello, &wire.UpdateRequest{})
	pr, pw := io.Pipe()
	defer pw.Close() // ends the read loop
	go pw.Write(hello)
	out := &signalWriter{min: 1024, done: make(chan struct{})}
	heap0 := heapAfterGC()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- ServeFramebuffer(ctx, struct {
			io.Reader
			io.Writer
		}{pr, out}, screen, FramebufferOptions{})
	}()
	select {
	case <-out.done:
	case err := <-served:
		t.Fatalf("ServeFramebuffer ended before its first update: %v", err)
	}
	cancel()
	<-served
	heap := heapAfterGC()
	t.Logf("heap before the session %.1f MiB, once ServeFramebuffer returned %.1f MiB", mib(heap0), mib(heap))
	if heap > heap0+4<<20 {
		t.Errorf("ServeFramebuffer returned holding %.1f MiB", mib(heap-heap0))
	}
}
