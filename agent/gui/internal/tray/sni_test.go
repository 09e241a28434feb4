//go:build linux

package tray

import (
	"errors"
	"image"
	"image/color"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/sessionbus"
)

func square(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i := range size * size {
		img.SetNRGBA(i%size, i/size, color.NRGBA{B: 0xff, A: 0xff})
	}
	return img
}

// TestNoTray: without a session bus, or on a bus that no panel watches, Open says the desktop
// has no notification area, and says it at once.
func TestNoTray(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if _, err := Open(Options{ID: "test"}, State{Title: "t"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Open with no session bus: %v, want ErrUnavailable", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", sessionbus.Start(t))
	start := time.Now()
	if _, err := Open(Options{ID: "test"}, State{Title: "t"}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no StatusNotifierWatcher") {
		t.Errorf("Open with no StatusNotifierWatcher: %v, want ErrUnavailable saying so", err)
	}
	if d := time.Since(start); d > 4*time.Second { // register's own deadline is 5 s
		t.Errorf("Open with no StatusNotifierWatcher took %s: it waited for a watcher", d)
	}
}

// TestStatusNotifierItem: the item registers with the watcher on a real session bus, carries
// the title, tooltip and picture it was given, runs a menu entry and Activate when the panel
// asks, follows Set, and is gone from the watcher once closed.
func TestStatusNotifierItem(t *testing.T) {
	addr := sessionbus.Start(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	w := sessionbus.StartWatcher(t, addr)
	ran := make(chan string, 4)
	state := State{Title: "Being assisted by A", Text: "A can see your screen",
		Items: []Item{{Label: "A can see your screen"}, {}, {Label: "Switch to view only", Do: func() { ran <- "view" }}, {Label: "Stop", Do: func() { ran <- "stop" }}}}
	tr, err := Open(Options{ID: "assist-test", Image: square, Activate: func() { ran <- "activate" }}, state)
	if err != nil {
		t.Fatal(err)
	}
	reg := w.Next()
	if reg.Gone {
		t.Fatalf("first event %+v, want a registration", reg)
	}
	it := w.Item(reg.Service)
	if got := it.Title(); got != state.Title {
		t.Errorf("Title %q, want %q", got, state.Title)
	}
	if title, text := it.ToolTip(); title != state.Title || text != state.Text {
		t.Errorf("ToolTip %q, %q; want %q, %q", title, text, state.Title, state.Text)
	}
	px, err := it.Prop("IconPixmap")
	if err != nil {
		t.Fatal(err)
	}
	if ps, ok := px.([][]any); !ok || len(ps) == 0 {
		t.Errorf("IconPixmap %T %v, want pixmaps", px, px)
	}
	want := []sessionbus.MenuEntry{{Label: "A can see your screen"}, {Label: "Switch to view only", Enabled: true}, {Label: "Stop", Enabled: true}}
	if got := it.Menu(); !slices.EqualFunc(got, want, func(a, b sessionbus.MenuEntry) bool { return a.Label == b.Label && a.Enabled == b.Enabled }) {
		t.Errorf("menu %v, want %v", got, want)
	}
	it.Click("Stop")
	if got := wait(t, ran); got != "stop" {
		t.Errorf("clicking Stop ran %s", got)
	}
	if err := it.Activate(); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, ran); got != "activate" {
		t.Errorf("Activate ran %s", got)
	}

	state.Text, state.Items = "A can see your screen (view only)", []Item{{Label: "Stop", Do: func() { ran <- "stop" }}}
	tr.Set(state)
	if _, text := it.ToolTip(); text != state.Text {
		t.Errorf("ToolTip text after Set %q, want %q", text, state.Text)
	}
	if got := it.Menu(); len(got) != 1 || got[0].Label != "Stop" {
		t.Errorf("menu after Set %v, want Stop alone", got)
	}

	tr.Close()
	if e := w.Next(); !e.Gone || e.Service != reg.Service {
		t.Errorf("after Close the watcher heard %+v, want %s gone", e, reg.Service)
	}
}

func wait(t *testing.T, c <-chan string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("nothing ran in 30 s")
	}
	return ""
}
