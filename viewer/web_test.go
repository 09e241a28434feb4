package viewer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/viewer"
)

// chromiumPath is Debian's chromium; scripts/deps.sh installs it.
const chromiumPath = "/usr/bin/chromium"

// webEnv is a whole session seen through the browser viewer: Xvfb, an agent sharing it (screen,
// input and files), a gateway, a one-time session and the viewer's web server.
type webEnv struct {
	web     *viewer.Web
	s       *viewer.Session
	display string
	x       *xclient
	served  chan error // what Serve returned
	stop    context.CancelFunc
	g       *testenv.Gateway
	tech    *testenv.Technician
	code    string           // the request's
	link    *linkproxy.Proxy // between the agent and the gateway
	agent   *testenv.Agent
}

// startWeb starts everything; before runs on the new display before the agent looks at it.
func startWeb(t testing.TB, grant protocol.Grant, before func(*xclient), xvfbArgs ...string) *webEnv {
	t.Helper()
	return startWebDesktop(t, grant, nil, before, xvfbArgs...)
}

// startWebDesktop is startWeb with the agent's desktop passed through wrap, when it is not nil.
func startWebDesktop(t testing.TB, grant protocol.Grant, wrap func(agent.Desktop) agent.Desktop, before func(*xclient), xvfbArgs ...string) *webEnv {
	t.Helper()
	return startWebConsent(t, testenv.FixedConsent(grant), wrap, before, xvfbArgs...)
}

// startWebConsent is startWebDesktop with the person answering through consent.
func startWebConsent(t testing.TB, consent agent.Consenter, wrap func(agent.Desktop) agent.Desktop, before func(*xclient), xvfbArgs ...string) *webEnv {
	t.Helper()
	return startWebGateway(t, nil, consent, wrap, before, xvfbArgs...)
}

// startWebGateway is startWebConsent with the gateway's configuration changed by configure,
// when it is not nil.
func startWebGateway(t testing.TB, configure func(*sshd.Config), consent agent.Consenter, wrap func(agent.Desktop) agent.Desktop, before func(*xclient), xvfbArgs ...string) *webEnv {
	t.Helper()
	t.Setenv("HOME", t.TempDir()) // the agent's files start in the person's home
	display := xvfb.ForTest(t, xvfbArgs...)
	x := newXClient(t, display)
	if before != nil {
		before(x)
	}
	log := slog.New(slog.DiscardHandler)
	d, closer, err := agent.OpenDesktop(display, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	if wrap != nil {
		d = wrap(d)
	}
	routes := agent.DesktopRoutes(d, log)
	routes["session"] = agent.FilesRoute(log)
	g := testenv.StartGateway(t, testenv.Options{Configure: configure})
	tech := g.AddTechnician(t, "alice", false)
	link, err := linkproxy.Start(g.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { link.Close() })
	a := g.StartAgent(t, testenv.AgentOptions{Consent: consent, Routes: routes, Via: link.Addr})
	o := g.IssueOTC(t, tech, a.Code())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w, err := viewer.NewWeb(s, viewer.WebOptions{Monitor: -1, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	e := &webEnv{web: w, s: s, display: display, x: x, served: make(chan error, 1), stop: stop, g: g, tech: tech, code: a.Code(), link: link, agent: a}
	go func() { e.served <- w.Serve(sctx) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-e.served:
		case <-time.After(10 * time.Second):
			t.Error("the viewer's Serve did not return 10 s after it was stopped")
		}
	})
	return e
}

// testWriter sends the viewer's log to the test's.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newBrowser starts a headless Chromium with a fresh profile; it is stopped at cleanup.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("this test needs Chromium at %s (Debian package chromium; scripts/deps.sh installs it): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// openViewer opens the viewer's URL and waits until the page drew a first frame.
func (e *webEnv) openViewer(t testing.TB) context.Context {
	t.Helper()
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.web.URL()),
		chromedp.WaitVisible(chromedp.ID("screen")),
	); err != nil {
		t.Fatalf("open the viewer: %v", err)
	}
	waitJS(t, ctx, `window.assistViewer && assistViewer.frames > 0`)
	return ctx
}

// waitJS polls expr in the page until it is true.
func waitJS(t testing.TB, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status').textContent + ' / ' + document.getElementById('ended-reason').textContent`))
		t.Fatalf("waiting for %s: %v (page status: %s)", expr, err, status)
	}
}

func evalJS[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pagePoint is where on the page remote pixel (x, y) of the shown region is drawn: the middle
// of the scaled pixel, so rounding cannot move it to a neighbour.
func pagePoint(t testing.TB, ctx context.Context, x, y int) (float64, float64) {
	t.Helper()
	r := evalJS[[]float64](t, ctx, `(() => { const c = document.getElementById('screen'), r = c.getBoundingClientRect();
		return [r.left, r.top, r.width / c.width, r.height / c.height]; })()`)
	return r[0] + (float64(x)+0.5)*r[2], r[1] + (float64(y)+0.5)*r[3]
}

// click clicks the left button at page position (px, py).
func click(t testing.TB, ctx context.Context, px, py float64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(px, py)); err != nil {
		t.Fatalf("click at %.1f,%.1f: %v", px, py, err)
	}
}

// typeShifted types r the way a keyboard does: Shift down, the key, Shift up.
func typeShifted(t *testing.T, ctx context.Context, r rune) {
	t.Helper()
	shift := func(typ input.DispatchKeyEventType) *input.DispatchKeyEventParams {
		return &input.DispatchKeyEventParams{Type: typ, Key: "Shift", Code: "ShiftLeft", WindowsVirtualKeyCode: 16,
			NativeVirtualKeyCode: 16, Location: 1, Modifiers: int64(kb.ModifierShift)}
	}
	evs := append([]*input.DispatchKeyEventParams{shift(input.DispatchKeyEventTypeRawKeyDown)}, kb.Encode(r)...)
	up := shift(input.DispatchKeyEventTypeKeyUp)
	up.Modifiers = 0
	evs = append(evs, up)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, ev := range evs {
			if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, *ev); err != nil {
				return err
			}
		}
		return nil
	})); err != nil {
		t.Fatalf("type %q with shift: %v", r, err)
	}
}

// startXtermCat runs a real xterm whose shell writes what it reads to file.
func startXtermCat(t *testing.T, display, file string) {
	t.Helper()
	cmd := exec.Command("xterm", "-display", display, "-geometry", "80x24+100+100", "-e", "sh", "-c", "cat > "+file)
	if err := cmd.Start(); err != nil {
		t.Fatalf("xterm (scripts/deps.sh installs it): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	testenv.WaitFor(t, 10*time.Second, "xterm to start cat", func() bool {
		_, err := os.Stat(file)
		return err == nil
	})
	// The shell can start before the window is on the screen; keys typed meanwhile go to the
	// root window and are lost.
	testenv.WaitFor(t, 10*time.Second, "xterm's window to be mapped", func() bool {
		_, err := xvfb.Xdotool(display, "search", "--onlyvisible", "--class", "XTerm")
		return err == nil
	})
}

func TestWebTypingReachesXterm(t *testing.T) {
	e := startWeb(t, protocol.GrantView|protocol.GrantControl, nil)
	file := filepath.Join(t.TempDir(), "typed.txt")
	startXtermCat(t, e.display, file)
	ctx := e.openViewer(t)
	waitJS(t, ctx, `assistViewer.control`)

	// Click into the xterm: with no window manager, X keyboard focus follows the pointer.
	px, py := pagePoint(t, ctx, 300, 200)
	click(t, ctx, px, py)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("echo from the viewer")); err != nil {
		t.Fatal(err)
	}
	typeShifted(t, ctx, '!')
	if err := chromedp.Do(ctx, chromedp.KeyEvent(" Done\n")); err != nil {
		t.Fatal(err)
	}
	want := "echo from the viewer! Done\n"
	var got []byte
	defer func() {
		if t.Failed() {
			t.Logf("the xterm's file has %q", got)
		}
	}()
	testenv.WaitFor(t, 15*time.Second, "the typed line in the xterm's file", func() bool {
		got, _ = os.ReadFile(file)
		return string(got) == want
	})
	if string(got) != want {
		t.Fatalf("file has %q, want %q", got, want)
	}
	savePageScreenshot(t, ctx, "typing")
}

func TestWebClickLandsAtRemoteCoordinates(t *testing.T) {
	e := startWeb(t, protocol.GrantView|protocol.GrantControl, nil)
	win := e.x.window(1300, 600, 400, 300, 0x2060a0, xproto.EventMaskButtonPress|xproto.EventMaskButtonRelease)
	ctx := e.openViewer(t)
	waitJS(t, ctx, `assistViewer.control`)

	// A move alone puts the X pointer where the page says.
	mx, my := pagePoint(t, ctx, 777, 333)
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, mx, my)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the pointer at 777,333", func() bool {
		x, y := e.x.pointer()
		return x == 777 && y == 333
	})
	// And the page draws the remote cursor there, from the agent's own report.
	waitJS(t, ctx, `(() => { const c = assistViewer.cursor; return c.x === 777 && c.y === 333 && c.img !== null &&
		document.getElementById('cursor').getContext('2d').getImageData(c.x - c.hotX, c.y - c.hotY, c.img.width, c.img.height).data.some(v => v !== 0); })()`)

	// A click lands on the window at the very pixel.
	px, py := pagePoint(t, ctx, 1411, 707)
	click(t, ctx, px, py)
	ev := e.x.wait(10*time.Second, func(ev xgb.Event) bool {
		b, ok := ev.(xproto.ButtonPressEvent)
		return ok && b.Event == win
	}).(xproto.ButtonPressEvent)
	if ev.Detail != 1 || ev.RootX != 1411 || ev.RootY != 707 || ev.EventX != 111 || ev.EventY != 107 {
		t.Fatalf("button %d pressed at root %d,%d (window %d,%d), want button 1 at 1411,707 (111,107)",
			ev.Detail, ev.RootX, ev.RootY, ev.EventX, ev.EventY)
	}
	e.x.wait(10*time.Second, func(ev xgb.Event) bool { b, ok := ev.(xproto.ButtonReleaseEvent); return ok && b.Event == win })
}

func TestWebTwoMonitors(t *testing.T) {
	e := startWeb(t, protocol.GrantView, func(x *xclient) { xvfb.TwoMonitors(t, x.display) }, "-screen", "0", "3200x1080x24")
	// A red square on the right monitor, 200,300 from its corner.
	e.x.window(1920+200, 300, 100, 80, 0xff0000, 0)
	ctx := e.openViewer(t)

	waitJS(t, ctx, `!document.getElementById('monitor-label').hidden`)
	opts := evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll('#monitor option')).map(o => o.textContent)`)
	want := []string{"All (3200×1080)", "1: LEFT 1920×1080 (primary)", "2: RIGHT 1280×1024"}
	if strings.Join(opts, "|") != strings.Join(want, "|") {
		t.Fatalf("monitor picker offers %q, want %q", opts, want)
	}
	red := `(() => { const c = document.getElementById('screen'), d = c.getContext('2d').getImageData(%d, %d, 1, 1).data;
		return c.width + 'x' + c.height + ' ' + d[0] + ',' + d[1] + ',' + d[2]; })()`
	// The whole virtual screen first: the square at its virtual-screen place.
	waitJS(t, ctx, fmt.Sprintf(red, 1920+250, 340)+` === '3200x1080 255,0,0'`)

	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('monitor');
		s.value = '1'; s.dispatchEvent(new Event('change')); })()`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, fmt.Sprintf(red, 250, 340)+` === '1280x1024 255,0,0'`)
	if got := evalJS[string](t, ctx, fmt.Sprintf(red, 199, 340)); got == "1280x1024 255,0,0" {
		t.Fatalf("the pixel left of the square is red too: the monitor is drawn at the wrong place")
	}
	savePageScreenshot(t, ctx, "monitor")
}

func TestWebEndSessionShowsReason(t *testing.T) {
	e := startWeb(t, protocol.GrantView, nil)
	ctx := e.openViewer(t)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("end")), chromedp.Click(chromedp.ID("end"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!document.getElementById('ended').hidden`)
	if got := evalJS[string](t, ctx, `document.getElementById('ended-reason').textContent`); got != "you ended the session" {
		t.Errorf("the page says the session ended because %q", got)
	}
	select {
	case err := <-e.served:
		e.served <- err
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the session ended")
	}
}

// TestWebReconnectsAfterAgentLinkDrop: the agent's link drops during a session and comes back.
// The page says it is reconnecting and why, then shows the screen again (new frames, "Connected"),
// and the session never ended.
func TestWebReconnectsAfterAgentLinkDrop(t *testing.T) {
	e := startWeb(t, protocol.GrantView|protocol.GrantControl, nil)
	ctx := e.openViewer(t)
	before := evalJS[int](t, ctx, `assistViewer.frames`)
	e.link.Cut()
	waitJS(t, ctx, `document.getElementById('status').textContent.startsWith('Reconnecting')`)
	status := evalJS[string](t, ctx, `document.getElementById('status').textContent`)
	if !strings.Contains(status, "lost its connection") && !strings.Contains(status, "interrupted") {
		t.Errorf("while reconnecting the page says %q, without why", status)
	}
	e.link.Restore()
	waitJS(t, ctx, fmt.Sprintf(`assistViewer.frames > %d && document.getElementById('status').textContent.startsWith('Connected')`, before))
	if evalJS[bool](t, ctx, `assistViewer.ended`) {
		t.Fatal("the page shows the session ended")
	}
	select {
	case <-e.s.Ended():
		t.Fatalf("the session ended: %s", e.s.EndReason())
	default:
	}
}

// TestWebGatewayEndShowsReason: when the gateway ends the session (here: the request is closed),
// the page shows the gateway's reason, not the end of the stream that follows it.
func TestWebGatewayEndShowsReason(t *testing.T) {
	e := startWeb(t, protocol.GrantView, nil)
	ctx := e.openViewer(t)
	if _, errs, status := e.g.Exec(t, e.tech, "request", "close", e.code); status != 0 {
		t.Fatalf("request close: %d %s", status, errs)
	}
	waitJS(t, ctx, `!document.getElementById('ended').hidden`)
	if got := evalJS[string](t, ctx, `document.getElementById('ended-reason').textContent`); got != "the request was closed by alice" {
		t.Errorf("the page says the session ended because %q", got)
	}
}

func TestWebViewOnlySaysSo(t *testing.T) {
	e := startWeb(t, protocol.GrantView, nil)
	ctx := e.openViewer(t)
	waitJS(t, ctx, `document.getElementById('status').textContent === 'Connected · view only'`)
	if evalJS[bool](t, ctx, `assistViewer.control`) {
		t.Fatal("the page thinks it has control of a view-only session")
	}
}

// savePageScreenshot keeps a picture of the page in the test's directory, and in
// $ASSIST_VIEWER_SCREENSHOTS when set (that is how docs/viewer.png was made).
func savePageScreenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("ASSIST_VIEWER_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("save screenshot: %v", err)
		}
	}
}

func TestWebFilesPanel(t *testing.T) {
	e := startWeb(t, protocol.GrantView|protocol.GrantFilesRead|protocol.GrantFilesWrite, nil)
	home := os.Getenv("HOME") // startWeb gave the agent a home of its own
	if err := os.WriteFile(filepath.Join(home, "notes.txt"), []byte("printer E-42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "upload.bin")
	data := make([]byte, 5<<20+7)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := e.openViewer(t)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("files-toggle"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById('files-dir').textContent === `+jsString(home))
	waitJS(t, ctx, `Array.from(document.querySelectorAll('#files-list a')).some(a => a.textContent === 'notes.txt')`)

	// Download through the page's own link, with the page's cookie.
	got := evalJS[string](t, ctx, `(async () => { const a = Array.from(document.querySelectorAll('#files-list a')).find(a => a.textContent === 'notes.txt');
		return await (await fetch(a.href)).text(); })()`+"")
	if got != "printer E-42\n" {
		t.Errorf("download gave %q", got)
	}

	// Upload with the file input; the note says when it is done.
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("files-upload"), []string{local})); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById('files-note').textContent === 'Uploaded upload.bin (5.0 MiB).'`)
	up, err := os.ReadFile(filepath.Join(home, "upload.bin"))
	if err != nil || !bytes.Equal(up, data) {
		t.Fatalf("uploaded file: %d bytes, equal %v, err %v", len(up), bytes.Equal(up, data), err)
	}
	waitJS(t, ctx, `Array.from(document.querySelectorAll('#files-list a')).some(a => a.textContent === 'upload.bin')`)
	savePageScreenshot(t, ctx, "files")
}

func TestWebClipboardBothWays(t *testing.T) {
	e := startWeb(t, protocol.GrantView|protocol.GrantControl, nil)
	ctx := e.openViewer(t)
	waitJS(t, ctx, `assistViewer.control`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("clip-toggle")),
		setValue("clip-text", "from the technician ✓"),
		chromedp.Click(chromedp.ID("clip-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById('clip-note').textContent === 'Sent to the remote clipboard.'`)
	// Ask the agent for its clipboard: the text comes back from the X selection.
	if err := chromedp.Do(ctx,
		setValue("clip-text", ""),
		chromedp.Click(chromedp.ID("clip-get")),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById('clip-text').value === 'from the technician ✓'`)
}

// setValue sets a form field's value as typing would leave it.
func setValue(id, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.getElementById(` + jsString(id) + `).value = ` + jsString(v))
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestWebAddressOpensOnce(t *testing.T) {
	e := startWeb(t, protocol.GrantView, nil)
	first := e.openViewer(t)

	// A fresh profile (a private window, another browser, someone who copied the address).
	other := newBrowser(t)
	if err := chromedp.Do(other, chromedp.Navigate(e.web.URL())); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, other, `document.querySelector('h1').textContent`); got != "This viewer address was already used" {
		t.Fatalf("a second browser opening the address sees %q", got)
	}
	if got := evalJS[bool](t, other, `!!document.getElementById('screen')`); got {
		t.Fatal("a second browser got the viewer page")
	}
	// Following the refusal's link gets it nothing either.
	page, _, _ := strings.Cut(e.web.URL(), "/open?")
	if err := chromedp.Do(other, chromedp.Navigate(page+"/")); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, other, `document.body.textContent`); !strings.Contains(got, "refused") {
		t.Fatalf("a second browser on / sees %q", got)
	}

	// The first browser keeps its page: the stream still draws, and a reload and the address
	// itself bring it back.
	frames := evalJS[float64](t, first, `assistViewer.frames`)
	e.x.window(10, 10, 50, 50, 0x00ff00, 0)
	waitJS(t, first, fmt.Sprintf(`assistViewer.frames > %v`, frames))
	for _, nav := range []chromedp.Action[chromedp.Void]{chromedp.Reload(), chromedp.Navigate(e.web.URL())} {
		if err := chromedp.Do(first, nav, chromedp.WaitVisible(chromedp.ID("screen"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, first, `window.assistViewer && assistViewer.frames > 0`)
	}
}

func TestWebStatusNamesEveryRight(t *testing.T) {
	for _, tc := range []struct {
		grant protocol.Grant
		want  string
	}{
		{protocol.GrantView | protocol.GrantControl | protocol.GrantFilesRead | protocol.GrantFilesWrite, "Connected · view, control, files"},
		{protocol.GrantView | protocol.GrantFilesRead, "Connected · view only, files (read only)"},
	} {
		t.Run(tc.grant.String(), func(t *testing.T) {
			e := startWeb(t, tc.grant, nil)
			ctx := e.openViewer(t)
			waitJS(t, ctx, `document.getElementById('status').textContent === `+jsString(tc.want))
		})
	}
}

// keyPresses returns the keysyms of the next n key presses the X client hears.
func (c *xclient) keyPresses(n int) []string {
	c.t.Helper()
	var got []string
	for len(got) < n {
		ev := c.wait(10*time.Second, func(ev xgb.Event) bool { _, ok := ev.(xproto.KeyPressEvent); return ok }).(xproto.KeyPressEvent)
		got = append(got, c.keysymName(ev.Detail))
	}
	return got
}

// keysymName is the name of the first keysym of keycode, for the few keys the tests send.
func (c *xclient) keysymName(code xproto.Keycode) string {
	c.t.Helper()
	r, err := xproto.GetKeyboardMapping(c.conn, code, 1).Reply()
	if err != nil || len(r.Keysyms) == 0 {
		c.t.Fatalf("keyboard mapping of %d: %v", code, err)
	}
	names := map[xproto.Keysym]string{0xffe3: "Control_L", 0xffe9: "Alt_L", 0xffff: "Delete", 0xffeb: "Super_L",
		0xff09: "Tab", 0xff61: "Print", 0xffe7: "Meta_L"}
	if n, ok := names[r.Keysyms[0]]; ok {
		return n
	}
	return fmt.Sprintf("%#x", r.Keysyms[0])
}

func TestWebSpecialKeys(t *testing.T) {
	e := startWeb(t, protocol.GrantView|protocol.GrantControl, nil)
	e.x.window(200, 200, 400, 300, 0x306030, xproto.EventMaskKeyPress)
	ctx := e.openViewer(t)
	waitJS(t, ctx, `assistViewer.control && !document.getElementById('key-cad').disabled`)
	// With no window manager, X keyboard focus follows the pointer: put it on the window.
	px, py := pagePoint(t, ctx, 400, 350)
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, px, py)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the pointer on the window", func() bool { x, y := e.x.pointer(); return x == 400 && y == 350 })
	for _, tc := range []struct {
		item string
		want []string
	}{
		{"ctrl-alt-del", []string{"Control_L", "Alt_L", "Delete"}},
		{"super", []string{"Super_L"}},
		{"alt-tab", []string{"Alt_L", "Tab"}},
		{"print", []string{"Print"}},
	} {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("keys-toggle")),
			chromedp.Click(chromedp.CSS(`#keys button[data-keys="`+tc.item+`"]`))); err != nil {
			t.Fatal(err)
		}
		if got := e.x.keyPresses(len(tc.want)); strings.Join(got, "+") != strings.Join(tc.want, "+") {
			t.Errorf("%s pressed %v, want %v", tc.item, got, tc.want)
		}
	}
	if evalJS[bool](t, ctx, `!document.getElementById('keys').hidden`) {
		t.Error("the keys menu stayed open after a choice")
	}
}

// noSAS is a desktop that does not say Ctrl+Alt+Del works (as on Windows without a SAS service).
type noSAS struct{ agent.Desktop }

func TestWebCtrlAltDelSaysWhenTheAgentCannot(t *testing.T) {
	e := startWebDesktop(t, protocol.GrantView|protocol.GrantControl, func(d agent.Desktop) agent.Desktop { return noSAS{d} }, nil)
	ctx := e.openViewer(t)
	waitJS(t, ctx, `assistViewer.control`)
	waitJS(t, ctx, `document.getElementById('key-cad').disabled && !document.getElementById('key-cad-note').hidden`)
	note := evalJS[string](t, ctx, `document.getElementById('key-cad-note').textContent`)
	if !strings.Contains(note, "does not take Ctrl+Alt+Del") {
		t.Errorf("the note says %q", note)
	}
	if evalJS[bool](t, ctx, `document.querySelector('#keys button[data-keys="super"]').disabled`) {
		t.Error("the other special keys are disabled too")
	}
}

func TestWebFullScreenAndScale(t *testing.T) {
	e := startWeb(t, protocol.GrantView|protocol.GrantControl, nil)
	ctx := e.openViewer(t)
	waitJS(t, ctx, `assistViewer.control`)
	width := `document.getElementById('screen').getBoundingClientRect().width`
	if w := evalJS[float64](t, ctx, width); w >= 1920 {
		t.Fatalf("fitted, the 1920-pixel screen is %v wide in a 1280-pixel window", w)
	}
	// The scale button is pressed through the page, not at its coordinates: under load a
	// coordinate click back to Fit did not reach it in 2 runs of 10 (the bar's items may move
	// as the status beside them changes; not proven). The pointer path is tested below.
	pressScale := func() {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.getElementById('scale').click()`)); err != nil {
			t.Fatal(err)
		}
	}
	pressScale()
	waitJS(t, ctx, width+` === 1920 / devicePixelRatio && document.getElementById('scale').textContent === 'Fit'`)
	waitJS(t, ctx, `(() => { const s = document.getElementById('stage'); return s.scrollWidth > s.clientWidth; })()`)
	// At 1:1 a pointer move still lands on its remote pixel.
	mx, my := pagePoint(t, ctx, 321, 123)
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, mx, my)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the pointer at 321,123", func() bool { x, y := e.x.pointer(); return x == 321 && y == 123 })
	pressScale()
	waitJS(t, ctx, width+` < 1920`)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("fullscreen"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.fullscreenElement !== null && document.getElementById('fullscreen').textContent === 'Exit full screen'`)
	savePageScreenshot(t, ctx, "fullscreen")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("fullscreen"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.fullscreenElement === null && document.getElementById('fullscreen').textContent === 'Full screen'`)
}

// TestWebQualityChoice: the page shows the viewer's quality, and a choice on it reaches the
// viewer (which tells the agent); a mode that does not exist is refused.
func TestWebQualityChoice(t *testing.T) {
	e := startWeb(t, protocol.GrantView, nil)
	ctx := e.openViewer(t)
	if got := evalJS[string](t, ctx, `document.getElementById('quality').value`); got != "auto" {
		t.Errorf("the page shows quality %q, want auto", got)
	}
	post := func(mode string) int {
		return evalJS[int](t, ctx, `fetch('/quality?view=' + assistViewer.view + '&mode=`+mode+`', {method: 'POST'}).then(r => r.status)`)
	}
	if got := post("sharp"); got != 204 {
		t.Errorf("choosing sharp: status %d", got)
	}
	if got := post("blurry"); got != 400 {
		t.Errorf("choosing a mode that does not exist: status %d, want 400", got)
	}
}
