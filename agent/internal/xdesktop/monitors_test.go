package xdesktop

import (
	"image"
	"testing"

	"github.com/assistkit/assist/rdp"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"
	"github.com/kbinani/screenshot"
)

// twoMonitors splits a 3200×1080 Xvfb screen into two RandR 1.5 monitors, the way a laptop with
// an external screen looks: xvfb's plus-xinerama option stacks its screens at (0,0) on this
// server, so RandR's monitors are what makes a real side-by-side layout. The first monitor takes
// Xvfb's only output, which retires the automatic whole-screen monitor.
func twoMonitors(t *testing.T, display string) {
	t.Helper()
	c := newClient(t, display)
	if err := randr.Init(c.conn); err != nil {
		t.Fatalf("randr: %v", err)
	}
	if _, err := randr.QueryVersion(c.conn, 1, 5).Reply(); err != nil {
		t.Fatal(err)
	}
	res, err := randr.GetScreenResourcesCurrent(c.conn, c.screen.Root).Reply()
	if err != nil || len(res.Outputs) == 0 {
		t.Fatalf("randr outputs: %v (%d)", err, len(res.Outputs))
	}
	for _, m := range []struct {
		name       string
		x, y, w, h int
		primary    bool
		outputs    []randr.Output
	}{
		{"LEFT", 0, 0, 1920, 1080, true, res.Outputs[:1]},
		{"RIGHT", 1920, 0, 1280, 1024, false, nil},
	} {
		atom, err := xproto.InternAtom(c.conn, false, uint16(len(m.name)), m.name).Reply()
		if err != nil {
			t.Fatal(err)
		}
		info := randr.MonitorInfo{Name: atom.Atom, Primary: m.primary, NOutput: uint16(len(m.outputs)), X: int16(m.x), Y: int16(m.y),
			Width: uint16(m.w), Height: uint16(m.h), WidthInMillimeters: 500, HeightInMillimeters: 300, Outputs: m.outputs}
		if err := randr.SetMonitorChecked(c.conn, c.screen.Root, info).Check(); err != nil {
			t.Fatalf("set monitor %s: %v", m.name, err)
		}
	}
}

func TestMonitorsTwo(t *testing.T) {
	d := openTest(t, "-screen", "0", "3200x1080x24")
	twoMonitors(t, d.Display())

	got, err := d.Monitors()
	if err != nil {
		t.Fatal(err)
	}
	want := []rdp.Monitor{
		{X: 0, Y: 0, W: 1920, H: 1080, Primary: true, Name: "LEFT"},
		{X: 1920, Y: 0, W: 1280, H: 1024, Name: "RIGHT"},
	}
	if len(got) != len(want) {
		t.Fatalf("monitors = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("monitor %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// kbinani/screenshot enumerates through Xinerama, which the server derives from the same
	// monitors; the two views must agree.
	t.Setenv("DISPLAY", d.Display())
	if n := screenshot.NumActiveDisplays(); n != 2 {
		t.Fatalf("kbinani/screenshot sees %d displays, want 2", n)
	}
	for i := range want {
		if b := screenshot.GetDisplayBounds(i); b != want[i].Bounds() {
			t.Errorf("kbinani display %d = %v, want %v", i, b, want[i].Bounds())
		}
	}

	// The Xinerama path, used when RandR is older than 1.5, sees the same rectangles.
	xs, err := d.xineramaMonitors()
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if xs[i].Bounds() != want[i].Bounds() {
			t.Errorf("xinerama monitor %d = %v, want %v", i, xs[i].Bounds(), want[i].Bounds())
		}
	}
}

func TestMonitorsSingle(t *testing.T) {
	d := openTest(t, "-screen", "0", "1024x768x24")
	ms, err := d.Monitors()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Bounds() != image.Rect(0, 0, 1024, 768) || !ms[0].Primary {
		t.Fatalf("monitors = %+v, want one primary 1024×768", ms)
	}
}
