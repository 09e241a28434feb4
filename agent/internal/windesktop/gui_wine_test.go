//go:build !windows

package windesktop

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/uitrace"
	"github.com/assistkit/assist/internal/harness/wine"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// TestGUIUnderWine is the person's app in the real assist-agent.exe, stamped as /help hands it
// out, under Wine on Xvfb, driven with real X keyboard input (xdotool) as a person would: the
// form files the request with the real gateway on loopback that the stamp names, the consent
// dialog names the technician and View only gives view only, the bar and the notification area's
// icon say so, Stop in the icon's menu ends the session and takes both away, Withdraw withdraws
// the request, Close ends the program. Gio draws through Direct3D 11,
// which Wine turns into OpenGL (Mesa's llvmpipe on Xvfb); the test checks the X screen shows it.
//
// The keyboard only in Gio's windows: Gio reads the mouse from WM_POINTER messages alone, and
// Wine 8.0 sends none (its EnableMouseInPointer is a stub, see agent/gui/wine_windows.go), so a
// click in Gio's windows under Wine does nothing; on Windows the mouse works as anywhere. The
// notification area's icon and its menu are Windows' own, and take the mouse under Wine too.
func TestGUIUnderWine(t *testing.T) {
	env := shared.Get(t)
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	exe := g.Stamp(t, wine.BuildAgent(t, t.TempDir()), "assist-agent.exe")
	tracePath, trace := uitrace.FIFO(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The person's download as /help stamps it, opened as a double-click opens it (a process
	// of its own, started by a Windows program): no arguments but the test's trace and log; its
	// key is made in the prefix's profile. It lives until it ends or the test does, each step
	// below bounded from the step before.
	app := startProgram(t, env, exe, "--verbose", "--ui-trace", wine.WindowsPath(tracePath))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("its windows traced:\n%s", trace)
		}
	})
	p := &wineApp{t: t, display: env.Display, trace: trace, env: env, probe: wine.Build(t, t.TempDir(), "./testdata/winprobe")}

	form := p.focusWindow("Ask for help")
	trace.Await(t, "focus", "title", "Ask for help", "widget", "Full name")
	p.drawn(form)
	p.shot("person-wine-form")
	if got := p.topmost("Ask for help"); got != "not topmost" {
		t.Errorf("the main window is %s, want not topmost: only the dialog and the bar stay above", got)
	}
	p.typeText("Pat Person")
	p.tab("Email")
	p.typeText("pat@example.org")
	p.tab("Phone")
	p.typeText("+1 555 0100")
	p.tab("What do you need help with?")
	p.typeText("The printer says offline.")
	p.tab("Ask for help")
	p.xdo("key", "Return")

	var req tickets.Request
	testenv.WaitFor(t, time.Minute, "the request at the gateway, online", func() bool {
		page, _ := g.Store.Requests(tickets.RequestQuery{})
		if len(page.Requests) == 1 && g.Server.Online(page.Requests[0].ID) {
			req = page.Requests[0]
		}
		return req.ID != ""
	})
	who := strings.Fields(env.Run(t, ctx, "cmd", "/c", "echo %USERDOMAIN%\\%USERNAME% %COMPUTERNAME%"))
	if f := req.Form; f.FullName != "Pat Person" || f.Email != "pat@example.org" || f.Phone != "+1 555 0100" || f.Message != "The printer says offline." ||
		len(who) != 2 || f.UserName != who[0] || !strings.EqualFold(f.Computer, who[1]) {
		t.Errorf("the gateway holds %+v; Windows says user and computer %q", f, who)
	}
	p.focusWindow("Waiting for the help desk")

	// A technician connects: the dialog names her; View only gives view only.
	s, err := viewer.DialOTC(ctx, g.IssueOTC(t, alice, req.Code))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	opened := make(chan error, 1)
	go func() {
		_, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
		if err == nil {
			go ssh.DiscardRequests(reqs)
		}
		opened <- err
	}()
	const consent = "Allow Alice Tester (alice) to connect?" // gui.ConsentTitle
	p.drawn(p.focusWindow(consent))
	p.shot("person-wine-consent")
	p.awaitTopmost(consent)
	p.tab("Deny")
	p.tab("View only")
	p.xdo("key", "Return")
	trace.Await(t, "answered", "grant", "view")
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("framebuffer after View only: %v", viewer.ChannelError(protocol.FramebufferChannel, err))
		}
	case <-time.After(uitrace.Timeout):
		t.Fatal("the framebuffer never opened after View only")
	}
	if _, _, err := s.OpenChannel(protocol.InputChannel, nil); err == nil {
		t.Error("input opened under View only")
	}
	// The bar opens and the dialog goes, in either order: a window takes Wine over 2 s to close
	// on an X server with no window manager, and under load the bar's first frame can take longer.
	// Windows activates another window when the dialog goes: the main window is raised after.
	// The notification area's icon comes with the bar, saying what the bar says.
	trace.AwaitAll(t, []string{"window", "title", "Being assisted by Alice Tester (alice)"}, // gui.BarTitle
		[]string{"closed", "title", consent},
		[]string{"tray", "state", "shown", "text", "Alice Tester (alice) can see your screen"})
	p.awaitTopmost("Being assisted by Alice Tester (alice)")
	if got := p.trayIcon(); got != "present" {
		t.Errorf("the shell's notification area has the app's icon %s, want present", got)
	}

	// Stop, from the icon's menu: a real right click on the icon where Wine's own notification
	// area shows it (its "Wine System Tray" window, which the X server stacks under the bar
	// until raised), then one on the menu's last entry. The session ends as the bar's Stop ends
	// it, and the icon goes with the bar.
	p.trayMenu("Stop")
	select {
	case <-s.Ended():
	case <-time.After(uitrace.Timeout):
		t.Fatal("the session did not end after Stop in the icon's menu")
	}
	if got := s.EndReason(); got != "the person ended the session" {
		t.Errorf("after Stop in the icon's menu the technician reads %q, want the person ended the session", got)
	}
	trace.AwaitAll(t, []string{"tray", "state", "gone"}, []string{"closed", "title", "Being assisted by Alice Tester (alice)"})
	if got := p.trayIcon(); got != "absent" {
		t.Errorf("after the session the shell's notification area has the app's icon %s, want absent", got)
	}

	// Withdraw, from the main window, then Close.
	p.raise("Waiting for the help desk")
	p.tab("Withdraw request")
	p.xdo("key", "Return")
	testenv.WaitFor(t, 30*time.Second, "the request to be withdrawn", func() bool {
		r, err := g.Store.Request(req.Code)
		return err == nil && !r.Open()
	})
	p.focusWindow("Help request ended")
	p.tab("Close")
	p.xdo("key", "Return")
	trace.Await(t, "closed", "title", "Help request ended")
	if code := app.exitCode(t, "assist-agent.exe to end after the person closed its window"); code != "0" {
		t.Errorf("assist-agent.exe ended with exit code %s after Withdraw and Close\n%s", code, readFile(app.out))
	}
}

// wineApp drives the person's app under Wine through its trace and xdotool.
type wineApp struct {
	t       *testing.T
	display string
	trace   *uitrace.Trace
	env     *wine.Env
	probe   string // winprobe.exe
}

// topmost asks Windows whether the window titled title stays above the others: "topmost" or
// "not topmost".
func (p *wineApp) topmost(title string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, stderr, err := p.env.Output(ctx, p.probe, "topmost", title)
	if err != nil {
		p.t.Fatalf("winprobe topmost %q: %v\n%s", title, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// trayIcon asks the shell whether the app's notification-area icon is there: "present" or
// "absent".
func (p *wineApp) trayIcon() string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const class, id = "assist-agent tray icon", "1" // tray.ClassName, the icon's ID
	out, stderr, err := p.env.Output(ctx, p.probe, "trayicon", class, id)
	if err != nil {
		p.t.Fatalf("winprobe trayicon: %v\n%s", err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// trayMenu right-clicks the app's icon in Wine's notification area and clicks the last entry
// of the menu that opens (named entry, for the failure's message).
func (p *wineApp) trayMenu(entry string) {
	p.t.Helper()
	tray := p.xdo("search", "--onlyvisible", "--name", "^Wine System Tray$")
	p.xdo("windowraise", tray)
	before := p.visibleWindows()
	at := p.geometry(tray).Min.Add(image.Pt(10, 10)) // the first icon's middle
	p.xdo("mousemove", strconv.Itoa(at.X), strconv.Itoa(at.Y), "click", "3")
	// The menu is the new window whose corner is where the click was (TrackPopupMenu's
	// default), not, say, the icon's tooltip.
	var menu string
	var r image.Rectangle
	testenv.WaitFor(p.t, 30*time.Second, "the icon's menu to open at "+at.String(), func() bool {
		for id := range p.visibleWindows() {
			if !before[id] {
				if g := p.geometry(id); g.Min == at {
					menu, r = id, g
				}
			}
		}
		return menu != ""
	})
	p.xdo("mousemove", strconv.Itoa(r.Min.X+r.Dx()/2), strconv.Itoa(r.Max.Y-8), "click", "1")
	p.t.Logf("clicked %s at the bottom of the menu %s at %v", entry, menu, r)
}

// visibleWindows are the IDs of the X windows mapped now.
func (p *wineApp) visibleWindows() map[string]bool {
	cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", "")
	cmd.Env = append(os.Environ(), "DISPLAY="+p.display)
	out, _ := cmd.Output()
	ids := map[string]bool{}
	for _, id := range strings.Fields(string(out)) {
		ids[id] = true
	}
	return ids
}

// awaitTopmost waits until the window titled title is topmost (the app posts the change to the
// window's thread, which makes it on its own time).
func (p *wineApp) awaitTopmost(title string) {
	p.t.Helper()
	testenv.WaitFor(p.t, 30*time.Second, "the window "+title+" to be topmost", func() bool { return p.topmost(title) == "topmost" })
}

func (p *wineApp) xdo(args ...string) string {
	p.t.Helper()
	out, err := xvfb.Xdotool(p.display, args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// focusWindow waits until the app drew the window titled title and gives it the keyboard.
func (p *wineApp) focusWindow(title string) string {
	p.t.Helper()
	p.trace.Await(p.t, "window", "title", title)
	return p.raise(title)
}

// raise gives the keyboard to the X window Wine made for the window titled title (the title
// and the mapping reach X on their own time, so this waits by looking).
func (p *wineApp) raise(title string) string {
	p.t.Helper()
	var id string
	testenv.WaitFor(p.t, 30*time.Second, "an X window titled "+title, func() bool {
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+regexp.QuoteMeta(title)+"$")
		cmd.Env = append(os.Environ(), "DISPLAY="+p.display)
		out, _ := cmd.Output()
		id, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
		return id != ""
	})
	p.xdo("windowraise", id)
	p.xdo("windowfocus", "--sync", id)
	return id
}

// tab presses Tab and waits until widget holds the keyboard.
func (p *wineApp) tab(widget string) {
	p.t.Helper()
	p.xdo("key", "Tab")
	p.trace.Await(p.t, "focus", "widget", widget)
}

func (p *wineApp) typeText(s string) { p.xdo("type", "--delay", "20", s) }

// buttonColor is the colour of the app's buttons (gui.BarColor; agent/gui is not imported
// here, since on Linux it needs cgo).
var buttonColor = [3]uint8{0x1a, 0x56, 0xb8}

// drawn waits until the X screen shows, inside X window id, a button of the app: Gio's frame
// went through Wine's Direct3D to OpenGL and reached the X server.
func (p *wineApp) drawn(id string) {
	p.t.Helper()
	r := p.geometry(id)
	testenv.WaitFor(p.t, 30*time.Second, "the window's button on the X screen", func() bool {
		img, err := xvfb.Screenshot(p.display)
		if err != nil {
			p.t.Fatal(err)
		}
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if c := img.RGBAAt(x, y); [3]uint8{c.R, c.G, c.B} == buttonColor {
					n++
				}
			}
		}
		return n > 1000 // a button is a few thousand pixels
	})
}

// geometry is X window id's rectangle on the screen.
func (p *wineApp) geometry(id string) image.Rectangle {
	p.t.Helper()
	r, err := xvfb.WindowGeometry(p.display, id)
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

// shot saves the X screen to docs/NAME.png when ASSIST_SCREENSHOTS names the docs folder.
func (p *wineApp) shot(name string) {
	p.t.Helper()
	dir := os.Getenv("ASSIST_SCREENSHOTS")
	if dir == "" {
		return
	}
	img, err := xvfb.Screenshot(p.display)
	if err != nil {
		p.t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		p.t.Fatal(err)
	}
}
