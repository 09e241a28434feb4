//go:build !nogui

package main

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/agent/gui"
	"github.com/assistkit/assist/internal/harness/sessionbus"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/uitrace"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// personApp is assist-agent's windows on their own Xvfb, filing with a real gateway, driven with
// real X input (XTEST, through xdotool). The test follows what the app draws through its
// --ui-trace, so it presses the next key only once the app shows where that key goes.
type personApp struct {
	t       *testing.T
	display string
	g       *testenv.Gateway
	alice   *testenv.Technician
	trace   *uitrace.Trace
	out     *testenv.SyncBuffer // what it wrote, -v
	exited  chan error
}

// appOptions are how startAppAs runs the app.
type appOptions struct {
	// stamped runs the agent as the gateway's /help page hands it out, stamped and with no
	// flags but the test's, on a clean home.
	stamped bool
	// bus is the D-Bus session bus the app finds (sessionbus.Start); "": none, whatever the
	// test's own environment has, so no test puts an icon in a developer's real panel.
	bus string
}

// startApp starts a gateway (configure may change it), an Xvfb and assist-agent's windows on it.
func startApp(t *testing.T, configure func(*sshd.Config)) *personApp {
	return startAppAs(t, configure, appOptions{})
}

// startAppAs is startApp, run as o says.
func startAppAs(t *testing.T, configure func(*sshd.Config), o appOptions) *personApp {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatal("xdotool is not installed (scripts/deps.sh installs it)")
	}
	display := xvfb.ForTest(t, "-screen", "0", "1024x768x24")
	t.Setenv("DISPLAY", display)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_SESSION_TYPE", "x11")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", o.bus)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // no bus socket there
	g := testenv.StartGateway(t, testenv.Options{Configure: configure})
	a := &personApp{t: t, display: display, g: g, alice: g.AddTechnician(t, "alice", false), exited: make(chan error, 1)}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a.trace = uitrace.Read(r)
	var proc *exec.Cmd
	var out *testenv.SyncBuffer
	if o.stamped {
		proc, out = onCleanHome(t, stampedAgent(t, g), []string{"DISPLAY=" + display}, "--ui-trace", "/dev/fd/3", "-v")
	} else {
		out = &testenv.SyncBuffer{}
		proc = exec.Command(os.Args[0], "request", "--gateway", g.Addr, "--gateway-key", g.HostKeyLine(), "--display", display, "--ui-trace", "/dev/fd/3", "-v")
		proc.Env = append(os.Environ(), runAsAgent+"=1", "XDG_CONFIG_HOME="+t.TempDir())
		proc.Stdout, proc.Stderr = out, out
	}
	a.out = out
	proc.ExtraFiles = []*os.File{w}
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() { a.exited <- proc.Wait() }()
	t.Cleanup(func() { // the program goes before the display does
		proc.Process.Signal(os.Interrupt)
		select {
		case <-a.exited:
		case <-time.After(10 * time.Second):
			proc.Process.Kill()
		}
		if t.Failed() {
			t.Logf("assist-agent said:\n%s\nits windows traced:\n%s", out, a.trace)
		}
	})
	return a
}

// await reads the app's trace up to the first line saying msg with the given attributes (name,
// value pairs) and returns it.
func (a *personApp) await(msg string, kv ...string) map[string]any {
	a.t.Helper()
	return a.trace.Await(a.t, msg, kv...)
}

func (a *personApp) xdo(args ...string) string {
	a.t.Helper()
	out, err := xvfb.Xdotool(a.display, args...)
	if err != nil {
		a.t.Fatal(err)
	}
	return out
}

// windowID finds the X window titled title, which the app drew (the title reaches X on its own
// time, so this one waits by looking).
func (a *personApp) windowID(title string) string {
	a.t.Helper()
	var id string
	testenv.WaitFor(a.t, 30*time.Second, "an X window titled "+title, func() bool {
		cmd := exec.Command("xdotool", "search", "--name", "^"+regexp.QuoteMeta(title)+"$")
		cmd.Env = append(os.Environ(), "DISPLAY="+a.display)
		out, _ := cmd.Output()
		id, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
		return id != ""
	})
	return id
}

// focusWindow waits until the app drew the window titled title and gives it the keyboard.
func (a *personApp) focusWindow(title string) string {
	a.t.Helper()
	a.await("window", "title", title)
	return a.raise(title)
}

// raise gives the keyboard to the window titled title, which the app drew before.
func (a *personApp) raise(title string) string {
	a.t.Helper()
	id := a.windowID(title)
	a.xdo("windowraise", id)
	a.xdo("windowfocus", "--sync", id)
	return id
}

// tab presses key (Tab, shift+Tab) and waits until widget holds the keyboard.
func (a *personApp) tab(key, widget string) {
	a.t.Helper()
	a.xdo("key", key)
	a.await("focus", "widget", widget)
}

func (a *personApp) typeText(s string) { a.xdo("type", "--delay", "20", s) }
func (a *personApp) key(k string)      { a.xdo("key", k) }

// shot saves the screen to docs/NAME.png when ASSIST_SCREENSHOTS names the docs folder; the
// trace said the window is drawn.
func (a *personApp) shot(name string) {
	dir := os.Getenv("ASSIST_SCREENSHOTS")
	if dir == "" {
		return
	}
	img, err := xvfb.Screenshot(a.display)
	if err != nil {
		a.t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		a.t.Fatal(err)
	}
	defer f.Close()
	png.Encode(f, img)
}

// fileByForm types a name into the Ask for help form, sends it and returns the request the
// gateway holds once the agent is online.
func (a *personApp) fileByForm(name string) tickets.Request {
	a.t.Helper()
	a.focusWindow("Ask for help")
	a.await("focus", "title", "Ask for help", "widget", "Full name")
	a.typeText(name)
	a.key("Return")
	return a.online()
}

// online waits for the one request at the gateway to be online.
func (a *personApp) online() tickets.Request {
	a.t.Helper()
	var req tickets.Request
	testenv.WaitFor(a.t, 30*time.Second, "the request at the gateway, online", func() bool {
		page, _ := a.g.Store.Requests(tickets.RequestQuery{})
		if len(page.Requests) == 1 && a.g.Server.Online(page.Requests[0].ID) {
			req = page.Requests[0]
		}
		return req.ID != ""
	})
	return req
}

// connect is the technician alice opening a session on the request; screen opens the screen
// in the background, which asks the person.
func (a *personApp) connect(code string) *viewer.Session {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, a.g.IssueOTC(a.t, a.alice, code))
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { s.Close() })
	return s
}

// controlledBy connects alice to req, has the person answer her consent dialog with Control
// (by the keyboard, as a person would), and returns the session once its screen opened.
func (a *personApp) controlledBy(req tickets.Request) *viewer.Session {
	a.t.Helper()
	s := a.connect(req.Code)
	opened := screen(s)
	a.focusWindow(aliceConsent)
	a.tab("Tab", "Deny")
	a.tab("Tab", "View only")
	a.tab("Tab", "Control")
	a.key("Return")
	a.await("answered", "grant", "control")
	if err := wait(a.t, opened, "the screen"); err != nil {
		a.t.Fatal(viewer.ChannelError(protocol.FramebufferChannel, err))
	}
	return s
}

func screen(s *viewer.Session) <-chan error {
	opened := make(chan error, 1)
	go func() {
		_, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
		if err == nil {
			go func() {
				for r := range reqs {
					r.Reply(false, nil)
				}
			}()
		}
		opened <- err
	}()
	return opened
}

func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

var aliceConsent = gui.ConsentTitle("Alice Tester", "alice")
var aliceBar = gui.BarTitle("Alice Tester", "alice")

// TestGUIRequestConsentWithdraw: the form files the right request and refuses a bad email
// before anything is sent, the consent dialog names the technician, View only gives view only,
// and Withdraw closes the request at the gateway.
func TestGUIRequestConsentWithdraw(t *testing.T) {
	a := startApp(t, nil)
	a.focusWindow("Ask for help")
	a.await("focus", "title", "Ask for help", "widget", "Full name")
	a.typeText("Pat Person")
	a.tab("Tab", "Email")
	a.typeText("pat at example")
	a.tab("Tab", "Phone")
	a.typeText("+1 555 0100")
	a.tab("Tab", "What do you need help with?")
	a.typeText("The printer says offline.")
	a.key("Return")
	a.await("refused", "field", "email")
	a.shot("person-ask-error") // the email is refused by the form: nothing reaches the gateway
	if page, _ := a.g.Store.Requests(tickets.RequestQuery{}); len(page.Requests) != 0 {
		t.Fatalf("a form with a bad email reached the gateway: %+v", page.Requests)
	}
	a.tab("shift+Tab", "Phone")
	a.tab("shift+Tab", "Email")
	a.xdo("key", "--repeat", "20", "--delay", "20", "End", "BackSpace") // ctrl+a was sometimes lost
	a.typeText("pat@example.org")
	a.key("Return")

	req := a.online()
	if req.FullName != "Pat Person" || req.Email != "pat@example.org" || req.Phone != "+1 555 0100" || req.Message != "The printer says offline." || req.Computer == "" || req.UserName == "" {
		t.Errorf("the gateway holds %+v", req.Form)
	}
	a.focusWindow("Waiting for the help desk")
	a.shot("person-waiting")

	// A technician connects: the dialog names her; View only gives view only.
	s := a.connect(req.Code)
	opened := screen(s)
	a.focusWindow(aliceConsent)
	a.shot("person-consent")
	a.tab("Tab", "Deny")
	a.tab("Tab", "View only")
	a.key("Return")
	a.await("answered", "grant", "view")
	if err := wait(t, opened, "the screen"); err != nil {
		t.Fatalf("framebuffer after View only: %v", viewer.ChannelError(protocol.FramebufferChannel, err))
	}
	if _, _, err := s.OpenChannel(protocol.InputChannel, nil); err == nil {
		t.Error("input opened under View only")
	}
	a.await("window", "title", aliceBar)
	a.shot("person-assisted")

	// Withdraw, from the main window.
	a.raise("Waiting for the help desk")
	a.tab("Tab", "Withdraw request")
	a.key("Return")
	testenv.WaitFor(t, 20*time.Second, "the request to be withdrawn", func() bool {
		r, err := a.g.Store.Request(req.Code)
		return err == nil && !r.Open()
	})
	if list, _, _ := a.g.Exec(t, a.alice, "request", "list"); strings.Contains(list, req.Code) {
		t.Errorf("request list still shows %s:\n%s", req.Code, list)
	}
	evs, _ := a.g.Store.Events(tickets.EventFilter{Request: req.Code, Kind: "request.withdrawn"})
	if len(evs) != 1 {
		t.Errorf("%d request.withdrawn events, want 1", len(evs))
	}
	a.focusWindow("Help request ended")
	a.shot("person-ended")
	a.tab("Tab", "Close")
	a.key("Return")
	if err := wait(t, a.exited, "assist-agent to exit after the person closed its window"); err != nil {
		t.Errorf("assist-agent after Withdraw and Close: %v", err)
	}
}

// TestGUIStampedAgent: the agent downloaded from /help, opened as it is on a clean home, shows
// the Ask for help form and files with the gateway its stamp names.
func TestGUIStampedAgent(t *testing.T) {
	a := startAppAs(t, nil, appOptions{stamped: true})
	req := a.fileByForm("Pat Downloaded")
	if req.FullName != "Pat Downloaded" {
		t.Errorf("the gateway holds %+v", req.Form)
	}
	a.await("window", "title", "Waiting for the help desk")
}

// TestGUIConsentExpires: a question nobody answers closes itself at the gateway's deadline; a
// click and a Return where it was, after that, let nobody in.
func TestGUIConsentExpires(t *testing.T) {
	a := startApp(t, func(c *sshd.Config) { c.ConsentTimeout = 8 * time.Second })
	req := a.fileByForm("Pat Person")
	s := a.connect(req.Code)
	opened := screen(s)
	where := a.geometry(a.focusWindow(aliceConsent))
	mid := where.Min.Add(where.Size().Div(2))
	a.await("expired", "title", aliceConsent)
	a.await("closed", "title", aliceConsent)
	a.xdo("mousemove", strconv.Itoa(mid.X), strconv.Itoa(mid.Y), "click", "1")
	a.key("Return")
	err := wait(t, opened, "the technician's screen to be refused")
	if err == nil || !strings.Contains(viewer.ChannelError(protocol.FramebufferChannel, err).Error(), protocol.NoAnswer) {
		t.Fatalf("screen after no answer: %v, want refused: %s", err, protocol.NoAnswer)
	}
	testenv.WaitFor(t, 10*time.Second, "the audit of no answer", func() bool {
		evs, _ := a.g.Store.Events(tickets.EventFilter{Request: req.Code, Kind: "consent.answered"})
		return len(evs) == 1 && evs[0].Attrs["grant"] == "deny" && evs[0].Attrs["note"] == "no answer"
	})
	if strings.Contains(a.trace.String(), "Being assisted") {
		t.Errorf("the bar appeared after the question expired:\n%s", a.trace)
	}
	if _, _, err := s.OpenChannel(protocol.InputChannel, nil); err == nil {
		t.Error("input opened after the question expired")
	}
}

// TestGUIBar: with control granted, the bar is in the technician's snapshot, Switch to view
// only narrows the live session (the agent closes input, the gateway refuses it), and Stop ends
// the session with the reason the technician reads.
func TestGUIBar(t *testing.T) {
	a := startApp(t, nil)
	s := a.controlledBy(a.fileByForm("Pat Person"))
	input, ireqs, err := s.OpenChannel(protocol.InputChannel, nil)
	if err != nil {
		t.Fatalf("input under control: %v", viewer.ChannelError(protocol.InputChannel, err))
	}
	go func() {
		for r := range ireqs {
			r.Reply(false, nil)
		}
	}()
	// The bar alone, with no session bus for an icon, and nothing said about it.
	a.noTray(a.trace.AwaitAll(t, []string{"rights", "title", aliceBar, "grant", "control"}, trayUnavailable)[1], "no D-Bus session bus")

	// The technician's snapshot shows the bar where X has it.
	barID := a.windowID(aliceBar)
	snap := filepath.Join(t.TempDir(), "screen.png")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := viewer.Snapshot(ctx, s, -1, snap); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	checkBarShown(t, snap, a.geometry(barID))

	// Switch to view only: the agent closes the live input channel, the gateway refuses a new one.
	a.raise(aliceBar)
	a.tab("Tab", "Switch to view only")
	a.key("Return")
	a.await("rights", "title", aliceBar, "grant", "view")
	closed := make(chan struct{})
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := input.Read(buf); err != nil {
				close(closed)
				return
			}
		}
	}()
	wait(t, closed, "the agent to close the input channel")
	testenv.WaitFor(t, 10*time.Second, "the gateway to hear view only", func() bool {
		g, _ := s.Grant()
		return g == protocol.GrantView
	})
	if _, _, err := s.OpenChannel(protocol.InputChannel, nil); err == nil {
		t.Error("input opened after Switch to view only")
	}

	// Stop.
	a.tab("Tab", "Stop")
	a.key("Return")
	wait(t, s.Ended(), "the session to end")
	if got := s.EndReason(); got != "the person ended the session" {
		t.Errorf("the technician reads %q, want the person ended the session", got)
	}
	a.await("closed", "title", aliceBar)
}

// geometry is window id's rectangle on the screen.
func (a *personApp) geometry(id string) image.Rectangle {
	a.t.Helper()
	r, err := xvfb.WindowGeometry(a.display, id)
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// checkBarShown checks that the snapshot at path shows the bar in r: mostly the bar's blue.
func checkBarShown(t *testing.T, path string, r image.Rectangle) {
	t.Helper()
	img := testenv.ReadPNG(t, path)
	if !r.In(img.Bounds()) || r.Empty() {
		t.Fatalf("the bar at %v is not on the %v screen", r, img.Bounds())
	}
	blue, all := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			all++
			if near(color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA), gui.BarColor()) {
				blue++
			}
		}
	}
	if blue*2 < all {
		t.Errorf("the technician's snapshot shows %d of %d pixels of the bar at %v in its colour %v", blue, all, r, gui.BarColor())
	}
}

// near: a colour as drawn and captured, within rounding.
func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) bool { return x-y < 3 || y-x < 3 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// TestGUIChat: a technician's message reaches the person's app before they answered consent
// (the main window shows it and a box to reply in), the person's reply typed there reaches the
// technician named by the gateway, and both go on during the session, with the bar up.
func TestGUIChat(t *testing.T) {
	a := startAppAs(t, nil, appOptions{bus: sessionbus.Start(t)}) // a bus that no panel watches
	req := a.fileByForm("Pat Person")
	s := a.connect(req.Code)
	chat, err := s.Chat()
	if err != nil {
		t.Fatalf("open the chat before consent: %v", err)
	}
	if err := chat.Say("I'll connect in a minute"); err != nil {
		t.Fatal(err)
	}
	a.await("chat received", "from", "alice", "text", "I'll connect in a minute")
	a.reply(chat, "thanks, I am here")

	opened := screen(s)
	a.focusWindow(aliceConsent)
	a.tab("Tab", "Deny")
	a.tab("Tab", "View only")
	a.key("Return")
	a.await("answered", "grant", "view")
	if err := wait(t, opened, "the screen"); err != nil {
		t.Fatal(viewer.ChannelError(protocol.FramebufferChannel, err))
	}
	a.noTray(a.trace.AwaitAll(t, []string{"window", "title", aliceBar}, trayUnavailable)[1], "no StatusNotifierWatcher")
	if err := chat.Say("I see the printer dialog"); err != nil {
		t.Fatal(err)
	}
	a.await("chat received", "text", "I see the printer dialog")
	a.reply(chat, "yes, that one")
}

// reply types text into the main window's reply box and sends it with Enter; the technician's
// chat reads it, from "person" as the gateway names the person's side.
func (a *personApp) reply(chat *viewer.Chat, text string) {
	a.t.Helper()
	a.raise("Waiting for the help desk")
	a.focusOn("Waiting for the help desk", "Reply to the help desk")
	a.typeText(text)
	a.key("Return")
	a.await("chat sent", "text", text)
	got := make(chan [2]string, 1)
	go func() {
		from, said, err := chat.Next()
		if err != nil {
			said = err.Error()
		}
		got <- [2]string{from, said}
	}()
	if m := wait(a.t, got, "the person's reply at the technician"); m != [2]string{"person", text} {
		a.t.Errorf("the technician read %q from %q, want %q from the person", m[1], m[0], text)
	}
}

// focusOn presses Tab in the window titled title until widget holds the keyboard: every Tab
// moves the focus to a widget, and the trace says which. A window's focus on nothing (traced
// when it shows a new phase, maybe after the line the test awaited last) is passed over.
func (a *personApp) focusOn(title, widget string) {
	a.t.Helper()
	for range 4 {
		a.key("Tab")
		got := a.await("focus", "title", title)
		for got["widget"] == "" {
			got = a.await("focus", "title", title)
		}
		if got["widget"] == widget {
			return
		}
	}
	a.t.Fatalf("Tab never reached %s; the app traced:\n%s", widget, a.trace)
}

var trayUnavailable = []string{"tray", "state", "unavailable"}

// noTray checks that the app, having traced got (trayUnavailable), found no notification area
// for the reason why, and told the person nothing of it: a desktop without one is not the app's
// error.
func (a *personApp) noTray(got map[string]any, why string) {
	a.t.Helper()
	if text, _ := got["text"].(string); !strings.Contains(text, why) {
		a.t.Errorf("the app found no notification area because %q, want %q", text, why)
	}
	if strings.Contains(strings.ToLower(a.out.String()), "tray") {
		a.t.Errorf("the app spoke of the tray it did not find:\n%s", a.out)
	}
}
