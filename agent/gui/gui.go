// Package gui is the person's app: the agent's Conversation drawn in windows with Gio. The main
// window asks for help and then shows the code to read to the help desk and the connection's
// state; a dialog asks consent with a countdown; a small bar stays on top while a technician is
// connected, and an icon in the desktop's notification area says the same (tray.go; the
// platforms' side in internal/tray). It holds no other platform code but the window manager hint
// for "always on top" and, on Windows, the workaround that lets Gio's windows open under Wine
// (wine_windows.go).
package gui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"log/slog"
	"sync"
	"time"

	"gioui.org/app"
	"gioui.org/font/gofont"
	"gioui.org/io/system"
	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/text"
	"gioui.org/unit"
	"gioui.org/widget/material"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/agent/gui/internal/tray"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Options configure the app.
type Options struct {
	Gateway   string         // the help desk's gateway, shown to the person
	Offer     protocol.Grant // what the agent can deliver; consent offers no more
	ScreenWhy string         // why the screen cannot be shared, or ""
	Logger    *slog.Logger
	// Trace, if set, hears what the windows show as they draw it: each window's title, the
	// widget that holds the keyboard, the consent dialog's answer or expiry, a window's close.
	// Tests wait on it rather than guess when a frame is drawn (assist-agent --ui-trace).
	Trace *slog.Logger
}

// ErrClosed is returned by Form when the person closed the window instead of asking for help.
var ErrClosed = errors.New("the window was closed")

// GUI is the agent's Conversation in windows. Start it with New.
type GUI struct {
	opts Options
	// th is the main window's theme. Every window has its own: each is drawn by its own
	// goroutine, and a theme's text shaper is not safe for two (it panicked, mid-session).
	th   *material.Theme
	log  *slog.Logger
	main *app.Window

	closed chan struct{} // the main window is gone
	trace  windowTrace   // the main window's

	mu       sync.Mutex
	view     *mainView
	controls agent.Controls
	bars     map[string]*bar              // live sessions' bars by session ID
	sessions map[string]agent.SessionInfo // and what they show
	icon     *iconKeeper                  // the notification-area icon, while a session is live
}

var _ agent.Conversation = (*GUI)(nil)

// New opens the main window, or says why it cannot (no display, no window system), so the
// caller can fall back to the terminal.
func New(opts Options) (*GUI, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := prepareWindowSystem(); err != nil {
		return nil, fmt.Errorf("open the window: %w", err)
	}
	g := &GUI{opts: opts, th: newTheme(), log: opts.Logger, closed: make(chan struct{}), bars: map[string]*bar{},
		sessions: map[string]agent.SessionInfo{}, trace: windowTrace{log: opts.Trace}}
	g.view = newMainView(g)
	g.main = new(app.Window)
	g.main.Option(app.Size(unit.Dp(520), unit.Dp(640)), app.MinSize(unit.Dp(420), unit.Dp(480)))
	g.setTitle(titleStarting)
	started := make(chan error, 1)
	go g.runMain(started)
	select {
	case err := <-started:
		if err != nil {
			return nil, fmt.Errorf("open the window: %w", err)
		}
	case <-time.After(20 * time.Second):
		return nil, errors.New("open the window: no first frame in 20 s")
	}
	g.icon = newIconKeeper(tray.Options{ID: "assist-agent", Image: trayImage, Activate: g.raiseBars}, g.log, opts.Trace)
	return g, nil
}

// Window titles, which tests and screen readers find the windows by.
const (
	titleStarting = "assist-agent"
	titleForm     = "Ask for help"
	titleWaiting  = "Waiting for the help desk"
	titleEnded    = "Help request ended"
)

// BarColor is the colour of the "being assisted" bar, which the technician sees in the screen
// too (and the buttons' colour).
func BarColor() color.NRGBA { return color.NRGBA{R: 0x1a, G: 0x56, B: 0xb8, A: 0xff} }

func newTheme() *material.Theme {
	th := material.NewTheme()
	th.Shaper = text.NewShaper(text.WithCollection(gofont.Collection()), text.NoSystemFonts())
	th.Palette.ContrastBg = BarColor()
	return th
}

// runMain is the main window's event loop; started hears the first frame or the failure.
func (g *GUI) runMain(started chan<- error) {
	var ops op.Ops
	first := true
	defer func() {
		// Gio panics when the window system refused the window before it could say so
		// (gioui.org v0.10.3 on Windows); before the first frame that is New's error.
		if r := recover(); r != nil {
			if !first {
				panic(r)
			}
			started <- fmt.Errorf("the window toolkit failed: %v", r)
		}
	}()
	for {
		switch e := g.main.Event().(type) {
		case app.DestroyEvent:
			if first {
				started <- cmpErr(e.Err, errors.New("the window closed at once"))
			}
			g.trace.closed()
			close(g.closed)
			g.view.destroyed()
			return
		case app.FrameEvent:
			gtx := app.NewContext(&ops, e)
			widgets := g.view.layout(gtx)
			g.trace.frame(gtx, g.view.title(), widgets)
			e.Frame(gtx.Ops)
			g.trace.drawn()
			if first {
				first = false
				started <- nil
			}
		}
	}
}

// setTitle names the main window for the window system; the trace names it after what it
// drew (mainView.title).
func (g *GUI) setTitle(t string) { g.main.Option(app.Title(t)) }

func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// Closed is closed when the person closed the main window.
func (g *GUI) Closed() <-chan struct{} { return g.closed }

// Close takes every window down and waits until the main one is gone (an X connection that
// outlives its display ends the process).
func (g *GUI) Close() {
	g.closeAllBars()
	g.icon.close()
	closeWindow(g.main)
	select {
	case <-g.closed:
	case <-time.After(5 * time.Second):
	}
}

// Form shows the Ask for help form until the person sends it or closes the window.
func (g *GUI) Form(ctx context.Context, known tickets.Form) (tickets.Form, error) {
	done := g.view.askForm(known)
	g.main.Invalidate()
	select {
	case f := <-done:
		g.main.Invalidate()
		return f, nil
	case <-g.closed:
		return known, ErrClosed
	case <-ctx.Done():
		return known, ctx.Err()
	}
}

// Show follows the agent's events: the code, the connection, the sessions, the end.
func (g *GUI) Show(e agent.Event) {
	g.mu.Lock()
	g.controls = e.Controls
	g.mu.Unlock()
	switch e.Kind {
	case agent.EventFiled:
		g.view.filed(e.Code, e.Resumed)
	case agent.EventDisconnected:
		g.view.reconnecting(e.Err)
	case agent.EventSessionStarted, agent.EventSessionChanged:
		g.showBar(*e.Session)
	case agent.EventSessionLimit:
		g.limitBar(*e.Session)
	case agent.EventChat:
		// The main window shows the latest messages and, from the first, a box to answer in.
		g.view.chat(e.Chat.From, e.Chat.Text)
		g.trace.event("chat received", "from", e.Chat.From, "text", e.Chat.Text)
	case agent.EventSessionEnded:
		g.closeBar(e.Session.ID)
		g.view.note(fmt.Sprintf("The session with %s ended.", who(e.Session.FullName, e.Session.Technician)))
	case agent.EventEnded:
		g.closeAllBars()
		g.view.ended(e.Err)
		g.main.Perform(system.ActionRaise)
	}
	g.main.Invalidate()
}

func (g *GUI) currentControls() agent.Controls {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.controls
}

// withdraw runs the person's Withdraw in the background: it waits for the gateway.
func (g *GUI) withdraw() {
	c := g.currentControls()
	if c == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Withdraw(ctx); err != nil {
			g.log.Warn("withdraw", "err", err)
		}
	}()
}

// who names a technician: the verified full name and the account, or the account alone.
func who(fullName, account string) string {
	if fullName == "" || fullName == "?" || fullName == account {
		return account
	}
	return fullName + " (" + account + ")"
}

// layoutText is a label in the theme at size sp.
func (g *GUI) label(size unit.Sp, s string) material.LabelStyle {
	l := material.Label(g.th, size, s)
	return l
}

var inset = layout.UniformInset(unit.Dp(16))
