package viewer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/viewer"
)

// desktopSession starts Xvfb with args, an agent sharing it, and a one-time session to it.
func desktopSession(t *testing.T, grant protocol.Grant, args ...string) (*viewer.Session, string) {
	t.Helper()
	display := xvfb.ForTest(t, args...)
	d, closer, err := agent.OpenDesktop(display, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: grant, Routes: agent.DesktopRoutes(d, slog.New(slog.DiscardHandler))})
	o := g.IssueOTC(t, tech, a.Code())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, display
}

// startXterm runs a real xterm with some text in it and waits until it has drawn.
func startXterm(t *testing.T, display string) {
	t.Helper()
	cmd := exec.Command("xterm", "-display", display, "-geometry", "100x30+40+40", "-e", "sh", "-c", "ls -la /; echo assist snapshot test; sleep 600")
	if err := cmd.Start(); err != nil {
		t.Fatalf("xterm (scripts/deps.sh installs it): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	testenv.WaitFor(t, 10*time.Second, "xterm to draw", func() bool {
		img, err := xvfb.Screenshot(display)
		return err == nil && !uniform(img)
	})
}

func uniform(img *image.RGBA) bool {
	first := img.Pix[:4]
	for i := 0; i < len(img.Pix); i += 4 {
		if !bytes.Equal(img.Pix[i:i+4], first) {
			return false
		}
	}
	return true
}

func TestSnapshotEqualsServerScreenshot(t *testing.T) {
	s, display := desktopSession(t, protocol.GrantView, "-screen", "0", "1920x1080x24")
	startXterm(t, display)
	got, want := testenv.StillSnapshot(t, s, display)
	if got.Bounds() != want.Bounds() {
		t.Fatalf("snapshot bounds %v, server %v", got.Bounds(), want.Bounds())
	}
	if diff := testenv.DifferingPixels(got, want); diff != 0 {
		t.Fatalf("%d pixels differ between the snapshot and the X server's own screenshot", diff)
	}
}

// TestHeadlessTrace pulls updates without a page and checks each JSON line: arrival time, and
// every rectangle's place, encoding and size on the wire.
func TestHeadlessTrace(t *testing.T) {
	s, display := desktopSession(t, protocol.GrantView, "-screen", "0", "1280x720x24")
	ctx, cancel := context.WithCancel(context.Background())
	var out testenv.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- viewer.Trace(ctx, s, -1, 2, &out) }()
	// Each change comes after the update before it arrived, so each makes an update of its own.
	x := newXClient(t, display)
	for i, rgb := range []uint32{0, 0xd03030, 0x3030d0} {
		if i > 0 {
			x.window(100*i, 80*i, 300, 200, rgb, 0)
		}
		testenv.WaitFor(t, 20*time.Second, fmt.Sprintf("traced update %d", i+1), func() bool { return strings.Count(out.String(), "\n") > i })
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	type rect struct {
		X, Y, W, H int
		Enc        string
		Bytes      int
	}
	var covered int
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, line := range lines {
		var u struct {
			T     int64  `json:"t"`
			Rects []rect `json:"rects"`
		}
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if u.T < time.Now().Add(-time.Minute).UnixNano() || u.T > time.Now().UnixNano() {
			t.Fatalf("line %d: arrival %d is not a recent Unix time in ns", i, u.T)
		}
		for _, r := range u.Rects {
			if r.W <= 0 || r.H <= 0 || r.Bytes <= 0 || !strings.Contains("solid raw zstd palette copy", r.Enc) || r.Enc == "" {
				t.Fatalf("line %d: implausible rectangle %+v", i, r)
			}
			if i == 0 {
				covered += r.W * r.H
			}
		}
	}
	if covered != 1280*720 {
		t.Fatalf("the first update covers %d pixels, want the whole 1280x720 screen", covered)
	}
}
