package xdesktop

import (
	"image"
	"testing"

	"github.com/kbinani/screenshot"

	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/rdp"
)

func TestMonitorsTwo(t *testing.T) {
	d := openTest(t, "-screen", "0", "3200x1080x24")
	xvfb.TwoMonitors(t, d.Display())

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
