//go:build !windows

package windesktop

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/wine"
	"github.com/assistkit/assist/internal/harness/xvfb"
)

var shared wine.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// underWine runs this package's Windows tests whose names match run under Wine, with
// ASSIST_WINE_OUT naming dir, and fails with their output if they fail.
func underWine(t *testing.T, env *wine.Env, run, dir string) string {
	t.Helper()
	exe := wine.BuildTest(t, t.TempDir(), ".")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, codeFile := startCommand(t, ctx, env, exe, "-test.run", run, "-test.v", "-test.count=1")
	cmd.Env = append(cmd.Env, "ASSIST_WINE_OUT="+wine.WindowsPath(dir))
	out, stderr, err := wine.Output(cmd)
	if code := readFile(codeFile); code != "0" || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("windows tests %s under wine: exit code %q (winprobe: %v)\n%s%s", run, code, err, out, stderr)
	}
	return string(out)
}

// BenchmarkGDICaptureUnderWine runs BenchmarkGDICapture under Wine on a 1920×1080 Xvfb and
// reports a frame's cost: wine-ms/frame is wall time, which on a loaded machine measures the load
// as much as the capture; wine-cpu-ms/frame is the processor time of the Windows program and
// xvfb-cpu-ms/frame that of the X server serving its blits. Figures for Wine's GDI on Xvfb, not
// for Windows.
func BenchmarkGDICaptureUnderWine(b *testing.B) {
	var x0 time.Duration
	out := benchUnderWine(b, "^BenchmarkGDICapture$", "2s", func() {
		var err error
		if x0, err = shared.X().CPUTime(); err != nil {
			b.Fatal(err)
		}
	})
	x1, err := shared.X().CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkGDICapture/") || f[3] != "ns/op" {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("Wine (not Windows): %s", line)
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				b.Fatalf("%q: %v", line, err)
			}
			switch f[i+1] {
			case "ns/op":
				b.ReportMetric(v/1e6, "wine-ms/frame")
			case "cpu-ms/frame":
				b.ReportMetric(v, "wine-cpu-ms/frame")
			}
		}
		b.ReportMetric(float64(x1-x0)/float64(time.Millisecond)/float64(n), "xvfb-cpu-ms/frame")
		b.ReportMetric(0, "ns/op")
		return
	}
	b.Fatalf("no benchmark line in:\n%s", out)
}

// BenchmarkGDIPartsUnderWine runs BenchmarkGDIParts under Wine and logs its lines.
func BenchmarkGDIPartsUnderWine(b *testing.B) {
	b.Logf("Wine (not Windows):\n%s", benchUnderWine(b, "^BenchmarkGDIParts$", "1s", func() {}))
}

// benchUnderWine runs this package's Windows benchmarks matching bench under Wine on a
// 1920×1080 Xvfb (unless a test of this run started the prefix first) and returns their output;
// before is called right before they start.
func benchUnderWine(b *testing.B, bench, benchtime string, before func()) string {
	b.Helper()
	shared.Screen = "1920x1080x24"
	env := shared.Get(b)
	exe := wine.BuildTest(b, b.TempDir(), ".")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, codeFile := startCommand(b, ctx, env, exe, "-test.run", "^$", "-test.bench", bench, "-test.benchtime", benchtime)
	before()
	out, stderr, err := wine.Output(cmd)
	if code := readFile(codeFile); code != "0" {
		b.Fatalf("under wine: exit code %q (winprobe: %v)\n%s%s", code, err, out, stderr)
	}
	return string(out)
}

// Under Wine, GDI capture of the virtual screen equals the X server's own picture of the Xvfb
// screen Wine draws on, pixel for pixel, and the one monitor is the whole of it.
func TestGDICaptureUnderWine(t *testing.T) {
	env := shared.Get(t)
	dir := t.TempDir()
	out := underWine(t, env, "^(TestWineCapture|TestWineCursor)$", dir)
	want, err := xvfb.Screenshot(env.Display)
	if err != nil {
		t.Fatal(err)
	}
	got := testenv.ReadPNG(t, filepath.Join(dir, "capture.png"))
	if got.Bounds() != want.Bounds() {
		t.Fatalf("capture is %v, the X screen %v", got.Bounds(), want.Bounds())
	}
	if n := testenv.DifferingPixels(got, want); n != 0 {
		t.Fatalf("%d pixels differ between the GDI capture and xwd", n)
	}
	if !strings.Contains(out, "monitors: [{X:0 Y:0 W:1280 H:800 Primary:true Name:DISPLAY1}]") {
		t.Errorf("monitors under Wine:\n%s", out)
	}
	// Wine 8.0 has no desktop duplication: GDI is chosen, and the log says why.
	if chose := regexp.MustCompile(`msg="screen capture: GDI BitBlt, polled" reason=".+"`).FindString(out); chose == "" {
		t.Errorf("no log of GDI chosen with its reason under Wine:\n%s", out)
	} else {
		t.Logf("under Wine: %s", chose)
	}
	if c := regexp.MustCompile(`cursor at .*`).FindString(out); c != "" {
		t.Logf("under Wine: %s", c)
	}
}

// A display mode change mid-session, under Wine: a virtual desktop (explorer /desktop), whose
// size Wine lets a program change, runs TestWineModeChange.
func TestModeChangeUnderWine(t *testing.T) {
	// Its own prefix and Xvfb: after a mode change, the shared ones were no longer what the
	// other tests expect (the X screen's pixel format and the DXGI output's size differed).
	var own wine.Shared
	t.Cleanup(own.Close)
	env := own.Get(t)
	exe := wine.BuildTest(t, t.TempDir(), ".")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := env.Command(ctx, "explorer", "/desktop=assist-modes,800x600", exe, "-test.run", "^TestWineModeChange$", "-test.v", "-test.count=1")
	cmd.Env = append(cmd.Env, "ASSIST_WINE_OUT="+wine.WindowsPath(t.TempDir()))
	// explorer may outlive the program on its desktop, and its exit status is not the
	// program's: the test's own verdict in its output is awaited.
	outFile := background(t, cmd).out
	var out string
	testenv.WaitFor(t, 2*time.Minute, "TestWineModeChange to finish", func() bool {
		out = readFile(outFile)
		return strings.Contains(out, "\nPASS") || strings.Contains(out, "FAIL")
	})
	if !strings.Contains(out, "--- PASS: TestWineModeChange") {
		t.Fatalf("TestWineModeChange in a Wine virtual desktop:\n%s", out)
	}
	t.Logf("under Wine:\n%s", out)
}
