package xvfb

import (
	"testing"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"
)

// TwoMonitors splits a 3200×1080 Xvfb screen into two RandR 1.5 monitors side by side, the way a
// laptop with an external screen looks: LEFT 1920×1080 (primary) and RIGHT 1280×1024. Xvfb's
// +xinerama stacks its screens at (0,0), so RandR's monitors are what makes a real side-by-side
// layout; the first takes Xvfb's only output, which retires the automatic whole-screen monitor.
// The connection that set them stays open until the test ends.
func TwoMonitors(tb testing.TB, display string) {
	tb.Helper()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		tb.Fatalf("connect to %s: %v", display, err)
	}
	tb.Cleanup(conn.Close)
	root := xproto.Setup(conn).DefaultScreen(conn).Root
	if err := randr.Init(conn); err != nil {
		tb.Fatalf("randr: %v", err)
	}
	if _, err := randr.QueryVersion(conn, 1, 5).Reply(); err != nil {
		tb.Fatal(err)
	}
	res, err := randr.GetScreenResourcesCurrent(conn, root).Reply()
	if err != nil || len(res.Outputs) == 0 {
		tb.Fatalf("randr outputs: %v (%d)", err, len(res.Outputs))
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
		atom, err := xproto.InternAtom(conn, false, uint16(len(m.name)), m.name).Reply()
		if err != nil {
			tb.Fatal(err)
		}
		info := randr.MonitorInfo{Name: atom.Atom, Primary: m.primary, NOutput: uint16(len(m.outputs)), X: int16(m.x), Y: int16(m.y),
			Width: uint16(m.w), Height: uint16(m.h), WidthInMillimeters: 500, HeightInMillimeters: 300, Outputs: m.outputs}
		if err := randr.SetMonitorChecked(conn, root, info).Check(); err != nil {
			tb.Fatalf("set monitor %s: %v", m.name, err)
		}
	}
}
