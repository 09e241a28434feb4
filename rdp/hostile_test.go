package rdp

import (
	"bytes"
	"context"
	"errors"
	"image"
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// hostileAgent is the agent end of a framebuffer channel over loopback TCP, speaking the
// protocol's handshake and layout and then whatever the test's serve does.
type hostileAgent struct {
	viewer net.Conn
	closed chan string // the reason of the viewer's Close, when it sends one
}

func startHostileAgent(t *testing.T, w, h int, serve func(c *conn)) *hostileAgent {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	a := &hostileAgent{closed: make(chan string, 1)}
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		c := newConn(nc)
		if _, err := c.handshake(wire.KindFramebuffer, wire.CapZstd, false); err != nil {
			return
		}
		if c.write(&wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: uint16(w), H: uint16(h), Primary: true}}}) != nil {
			return
		}
		serve(c)
	}()
	a.viewer, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.viewer.Close() })
	return a
}

// fullRawUpdate is every pixel of a w×h screen as raw rectangles of noise, the largest update
// an honest agent can send, then the update's end.
func fullRawUpdate(w, h int, seed byte) []wire.Message {
	rows := wire.MaxPixelData / (w * 3)
	var msgs []wire.Message
	for y := 0; y < h; y += rows {
		n := min(rows, h-y)
		data := make([]byte, w*n*3)
		for i := range data {
			data[i] = byte(i*7) ^ seed
		}
		msgs = append(msgs, &wire.Rect{Y: int32(y), W: uint32(w), H: uint32(n), Enc: wire.EncRaw, Data: data})
	}
	return append(msgs, &wire.UpdateEnd{})
}

// heapWatch is what watchHeap saw, in bytes above the heap at its start.
type heapWatch struct {
	live int // the most the GC found still referenced
	heap int // the most allocated, garbage included
	gcs  int // collections meanwhile
}

// watchHeap samples the heap until the returned function is called. The GC runs almost
// continuously meanwhile (GOGC=1), and what it finds live after each collection is what the code
// holds: garbage waiting for a collection, a runtime setting, is reported apart.
func watchHeap(t *testing.T) func() heapWatch {
	t.Helper()
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	metrics.Read(samples)
	base, liveBase, gcBase := ms.HeapAlloc, samples[0].Value.Uint64(), samples[1].Value.Uint64()
	prev := debug.SetGCPercent(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var w heapWatch
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			metrics.Read(samples)
			w.heap = max(w.heap, int(ms.HeapAlloc)-int(base))
			w.live = max(w.live, int(samples[0].Value.Uint64())-int(liveBase))
			w.gcs = int(samples[1].Value.Uint64() - gcBase)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	done := func() heapWatch {
		once.Do(func() {
			close(stop)
			wg.Wait()
			debug.SetGCPercent(prev)
		})
		return w
	}
	t.Cleanup(func() { done() })
	return done
}

// viewerBound is the promise: the viewer stays under twice one full frame (4 bytes a
// pixel, as it keeps the image) plus a fixed allowance, here heldAllowance and as much again for
// the channel's read buffer, the decoder and the Update records.
func viewerBound(w, h int) int { return 2*w*h*4 + 2*heldAllowance }

func TestFramebufferClientEndsAnEndlessUpdate(t *testing.T) {
	const w, h = 1920, 1080
	bound := viewerBound(w, h)
	watch := watchHeap(t)
	var sent int
	a := startHostileAgent(t, w, h, func(c *conn) {
		go discardReads(c)
		// The first rows of the screen as raw pixels, over and over, and never the update's end:
		// 40 frames' worth, then it hangs up. One frame on the wire, written again and again,
		// keeps the agent's own memory out of the count.
		rows := wire.MaxPixelData / (w * 3)
		rect := wire.Append(nil, &wire.Rect{W: w, H: uint32(rows), Enc: wire.EncRaw, Data: make([]byte, w*rows*3)})
		for sent < 40*w*h*3 {
			if c.writeRaw(rect) != nil {
				return
			}
			sent += len(rect)
		}
	})
	c := newClient(t, a.viewer, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Next(ctx)
	used := watch()
	t.Logf("the agent sent %.1f MB of one update; the viewer held at most %.1f MB (heap %.1f MB with garbage, %d GCs); bound %.1f MB: 2 × %.1f MB frame + %.1f MB",
		float64(sent)/1e6, float64(used.live)/1e6, float64(used.heap)/1e6, used.gcs, float64(bound)/1e6, float64(w*h*4)/1e6, float64(2*heldAllowance)/1e6)
	if !errors.Is(err, ErrTooMuchData) || !strings.Contains(err.Error(), "the agent sent more than a screen's worth of data") {
		t.Fatalf("Next: %v; want %v", err, ErrTooMuchData)
	}
	if used.live > bound || used.gcs == 0 {
		t.Fatalf("the viewer held %d bytes (%d GCs), over the bound of %d", used.live, used.gcs, bound)
	}
}

// discardReads reads what the viewer sends (requests, its Close) so its writes never wait.
func discardReads(c *conn) {
	for {
		if _, err := c.read(); err != nil {
			return
		}
	}
}

// An honest agent's largest updates, as many as the viewer asks for at once, stay within the
// bound without ending anything: the read loop waits for Next instead of holding more.
func TestFramebufferClientTakesFullRawUpdates(t *testing.T) {
	const w, h, inFlight, rounds = 1920, 1080, 4, 8
	var update []byte // framed before the heap is watched: the agent's memory is not the viewer's
	msgs := fullRawUpdate(w, h, 3)
	for _, m := range msgs {
		update = wire.Append(update, m)
	}
	want := msgs[0].(*wire.Rect).Data[:3]
	bound := viewerBound(w, h)
	watch := watchHeap(t)
	a := startHostileAgent(t, w, h, func(c *conn) {
		for {
			m, err := c.read()
			if err != nil {
				return
			}
			if _, ok := m.(*wire.UpdateRequest); ok && c.writeRaw(update) != nil {
				return
			}
		}
	})
	c := newClient(t, a.viewer, inFlight)
	for range rounds {
		next(t, c)
	}
	used := watch()
	t.Logf("%d full raw updates of %.1f MB, %d in flight; the viewer held at most %.1f MB (heap %.1f MB with garbage, %d GCs); bound %.1f MB",
		rounds, float64(len(update))/1e6, inFlight, float64(used.live)/1e6, float64(used.heap)/1e6, used.gcs, float64(bound)/1e6)
	if used.live > bound || used.gcs == 0 {
		t.Fatalf("the viewer held %d bytes (%d GCs), over the bound of %d", used.live, used.gcs, bound)
	}
	if got := c.Snapshot(image.Rect(0, 0, 1, 1)).Pix[:3]; !bytes.Equal(got, want) {
		t.Fatalf("pixel 0,0 is %v, want %v", got, want)
	}
}
