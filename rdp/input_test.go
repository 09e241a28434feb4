package rdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// recorder is an Injector (and Clipboard) that records every call in order.
type recorder struct {
	mu     sync.Mutex
	events []string
	clip   string
	failOn string // events with this prefix fail
	seen   chan struct{}
}

func (r *recorder) add(ev string) error {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.seen <- struct{}{}
	if r.failOn != "" && strings.HasPrefix(ev, r.failOn) {
		return errors.New("injection failed")
	}
	return nil
}

func (r *recorder) Key(k uint32, down bool) error { return r.add(fmt.Sprintf("key %#x %v", k, down)) }
func (r *recorder) Pointer(x, y int, b uint8) error {
	return r.add(fmt.Sprintf("pointer %d,%d %d", x, y, b))
}
func (r *recorder) Scroll(dx, dy int) error { return r.add(fmt.Sprintf("scroll %d,%d", dx, dy)) }

func (r *recorder) ReadClipboard() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clip, nil
}

func (r *recorder) WriteClipboard(text string) error {
	r.mu.Lock()
	r.clip = text
	r.mu.Unlock()
	return r.add("clipboard " + text)
}

func (r *recorder) setClip(text string) {
	r.mu.Lock()
	r.clip = text
	r.mu.Unlock()
}

// awaitEvents waits until n events were injected and returns them.
func (r *recorder) awaitEvents(t *testing.T, n int) []string {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d events arrived", i, n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func serveInput(t *testing.T, inj Injector, opts InputOptions) (net.Conn, func() error) {
	t.Helper()
	a, v := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var result error
	go func() { result = ServeInput(ctx, a, inj, opts); close(done) }()
	t.Cleanup(func() {
		cancel()
		v.Close()
		<-done
	})
	return v, func() error {
		select {
		case <-done:
			return result
		case <-time.After(10 * time.Second):
			t.Fatal("ServeInput did not return")
			return nil
		}
	}
}

func TestInputEventsArriveInOrder(t *testing.T) {
	rec := &recorder{seen: make(chan struct{}, 100), failOn: "pointer 13"}
	v, wait := serveInput(t, rec, InputOptions{ClipboardInterval: -1})
	c, err := NewInputClient(v)
	if err != nil {
		t.Fatal(err)
	}
	if c.ViewOnly() || !c.HasClipboard() {
		t.Fatalf("ViewOnly %v HasClipboard %v, want control and clipboard", c.ViewOnly(), c.HasClipboard())
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Key(0xffe1, true))
	must(c.Pointer(13, -7, 1)) // the injector fails this one: the channel must go on
	must(c.Pointer(640, 480, 0))
	must(c.Scroll(0, -3))
	must(c.Type("a\né\t€"))
	must(c.SetClipboard("from viewer"))
	must(c.Key(0xffe1, false))
	want := []string{
		"key 0xffe1 true", "pointer 13,-7 1", "pointer 640,480 0", "scroll 0,-3",
		"key 0x61 true", "key 0x61 false", "key 0xff0d true", "key 0xff0d false",
		"key 0xe9 true", "key 0xe9 false", "key 0xff09 true", "key 0xff09 false",
		"key 0x10020ac true", "key 0x10020ac false",
		"clipboard from viewer", "key 0xffe1 false",
	}
	if got := rec.awaitEvents(t, len(want)); !reflect.DeepEqual(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	c.Close()
	if err := wait(); err != nil {
		t.Errorf("ServeInput = %v after the viewer closed, want nil", err)
	}
}

func TestInputClipboardToViewer(t *testing.T) {
	rec := &recorder{seen: make(chan struct{}, 100), clip: "before"}
	v, _ := serveInput(t, rec, InputOptions{ClipboardInterval: time.Millisecond})
	c, err := NewInputClient(v)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recv := func() string {
		t.Helper()
		select {
		case s := <-c.Clipboard():
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("no clipboard text arrived")
			return ""
		}
	}
	if err := c.RequestClipboard(); err != nil {
		t.Fatal(err)
	}
	if got := recv(); got != "before" {
		t.Errorf("requested clipboard %q, want %q", got, "before")
	}
	rec.setClip("copied on the agent")
	if got := recv(); got != "copied on the agent" {
		t.Errorf("changed clipboard %q", got)
	}
}

func TestInputViewOnly(t *testing.T) {
	rec := &recorder{seen: make(chan struct{}, 100)}
	v, wait := serveInput(t, rec, InputOptions{ViewOnly: true})
	c, err := NewInputClient(v)
	if err != nil {
		t.Fatal(err)
	}
	if !c.ViewOnly() || c.HasClipboard() {
		t.Fatalf("ViewOnly %v HasClipboard %v, want view only", c.ViewOnly(), c.HasClipboard())
	}
	if err := c.Key('a', true); !errors.Is(err, ErrViewOnly) {
		t.Errorf("Key on a view-only session = %v, want ErrViewOnly", err)
	}
	if err := c.SetClipboard("x"); !errors.Is(err, ErrViewOnly) {
		t.Errorf("SetClipboard on a view-only session = %v, want ErrViewOnly", err)
	}
	// A viewer that sends anyway is told why and disconnected; nothing reaches the injector.
	if err := c.c.write(&wire.Pointer{X: 1, Y: 2}); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	var re *RemoteError
	if err := c.Err(); !errors.As(err, &re) || !errors.Is(err, ErrViewOnly) || !strings.Contains(err.Error(), "viewing only") {
		t.Errorf("Err = %v, want the agent's view-only reason", err)
	}
	if err := wait(); err != nil {
		t.Errorf("ServeInput = %v", err)
	}
	if len(rec.events) != 0 {
		t.Errorf("a view-only session injected %q", rec.events)
	}
}

func TestInputProtocolError(t *testing.T) {
	rec := &recorder{seen: make(chan struct{}, 100)}
	v, wait := serveInput(t, rec, InputOptions{})
	c, err := NewInputClient(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.c.write(&wire.UpdateRequest{}); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "unexpected update-request message on the input channel") {
		t.Errorf("Err = %v", err)
	}
	var pe *protocolError
	if err := wait(); !errors.As(err, &pe) {
		t.Errorf("ServeInput = %v, want a protocol error", err)
	}
}

func TestRuneKeysym(t *testing.T) {
	cases := map[rune]uint32{
		'a': 0x61, 'Z': 0x5a, ' ': 0x20, '~': 0x7e, 'é': 0xe9, 'ÿ': 0xff, '\u00a0': 0xa0,
		'€': 0x10020ac, 'ж': 0x1000436, '😀': 0x101f600,
		'\n': 0xff0d, '\r': 0xff0d, '\t': 0xff09, '\b': 0xff08, 0x1b: 0xff1b,
		0: 0, 0x7: 0, 0x7f: 0, 0x85: 0, 0xd800: 0,
	}
	for r, want := range cases {
		if got := RuneKeysym(r); got != want {
			t.Errorf("RuneKeysym(%U) = %#x, want %#x", r, got, want)
		}
	}
}
