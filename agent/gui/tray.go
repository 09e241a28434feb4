package gui

import (
	"errors"
	"image"
	"image/color"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"gioui.org/io/system"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/agent/gui/internal/tray"
	"github.com/assistkit/assist/protocol"
)

// trayState is what the notification-area icon says and offers while technicians are
// connected: the bar's words for each session and the bar's commands (Switch to view only where
// the grant allows it, Stop). Nil when nobody is connected: then there is no icon.
func (g *GUI) trayState(sessions []agent.SessionInfo) *tray.State {
	if len(sessions) == 0 {
		return nil
	}
	var lines []string
	var items []tray.Item
	for _, s := range sessions {
		line := barWords(s)
		lines = append(lines, line)
		items = append(items, tray.Item{Label: line})
	}
	items = append(items, tray.Item{}) // a separator
	for _, s := range sessions {
		if !s.Grant.Allows(protocol.GrantControl) {
			continue
		}
		label := "Switch to view only"
		if len(sessions) > 1 {
			label += " (" + who(s.FullName, s.Technician) + ")"
		}
		id := s.ID
		items = append(items, tray.Item{Label: label, Do: func() { g.viewOnly(id) }})
	}
	items = append(items, tray.Item{Label: "Stop", Do: g.stop})
	title := BarTitle(sessions[0].FullName, sessions[0].Technician)
	if len(sessions) > 1 {
		title = "Being assisted by the help desk"
	}
	return &tray.State{Title: title, Text: strings.Join(lines, "\n"), Items: items}
}

// stop is the bar's and the icon's Stop: it ends every live session.
func (g *GUI) stop() {
	if c := g.currentControls(); c != nil {
		c.End()
	}
}

// viewOnly is Switch to view only: it narrows session id's grant at the agent and the gateway.
func (g *GUI) viewOnly(id string) {
	if c := g.currentControls(); c != nil {
		if err := c.Narrow(id, protocol.GrantView); err != nil {
			g.log.Warn("switch to view only", "session", id, "err", err)
		}
	}
}

// raiseBars brings the bars to the front: the icon's own activation.
func (g *GUI) raiseBars() {
	g.mu.Lock()
	bars := make([]*bar, 0, len(g.bars))
	for _, b := range g.bars {
		bars = append(bars, b)
	}
	g.mu.Unlock()
	for _, b := range bars {
		b.w.Perform(system.ActionRaise)
		b.w.Invalidate() // X11: the request leaves Xlib's buffer when the loop wakes (closeWindow)
	}
}

// showIcon has the icon say what the live sessions are, or go when there are none. The caller
// holds g.mu, so the keeper hears the changes in the order they were made.
func (g *GUI) showIcon() {
	ss := make([]agent.SessionInfo, 0, len(g.sessions))
	for _, s := range g.sessions {
		ss = append(ss, s)
	}
	slices.SortFunc(ss, func(a, b agent.SessionInfo) int { return strings.Compare(a.ID, b.ID) })
	g.icon.show(g.trayState(ss))
}

// iconKeeper shows, changes and takes away the notification-area icon on a goroutine of its
// own, so neither the agent nor a window waits for the desktop (a D-Bus call, the shell's
// window thread). It always shows the latest state it was given; states in between are skipped.
type iconKeeper struct {
	opts  tray.Options
	log   *slog.Logger
	trace *slog.Logger // nil: nobody listens

	mu      sync.Mutex
	want    *tray.State
	closing bool
	wake    chan struct{}
	done    chan struct{}
}

func newIconKeeper(opts tray.Options, log, trace *slog.Logger) *iconKeeper {
	k := &iconKeeper{opts: opts, log: log, trace: trace, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go k.run()
	return k
}

// show makes the icon say s, or takes it away when s is nil.
func (k *iconKeeper) show(s *tray.State) {
	k.mu.Lock()
	k.want = s
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// close takes the icon away and stops the keeper.
func (k *iconKeeper) close() {
	k.mu.Lock()
	k.want, k.closing = nil, true
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
	select {
	case <-k.done:
	case <-time.After(5 * time.Second):
	}
}

func (k *iconKeeper) run() {
	defer close(k.done)
	var icon *tray.Tray
	for range k.wake {
		k.mu.Lock()
		s, closing := k.want, k.closing
		k.mu.Unlock()
		switch {
		case s == nil && icon != nil:
			icon.Close()
			icon = nil
			k.note("gone", "")
		case s != nil && icon == nil:
			var err error
			icon, err = tray.Open(k.opts, *s)
			switch {
			case errors.Is(err, tray.ErrUnavailable): // the desktop has no tray: the bar is enough
				k.log.Debug("no tray icon", "reason", err)
				k.note("unavailable", err.Error())
			case err != nil:
				k.log.Warn("tray icon", "err", err)
				k.note("failed", err.Error())
			default:
				k.note("shown", s.Text)
			}
		case s != nil:
			icon.Set(*s)
			k.note("changed", s.Text)
		}
		if closing {
			return
		}
	}
}

// note tells the trace what the icon shows ("tray", state shown/changed/gone/unavailable).
func (k *iconKeeper) note(state, text string) {
	if k.trace != nil {
		k.trace.Info("tray", "state", state, "text", text)
	}
}

// trayImage is the icon: an eye, in the bar's colour, on white in a disc of the bar's colour:
// "someone sees your screen", and the same blue as the bar that says who.
func trayImage(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	blue, white := BarColor(), color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	const n = 4 // samples a side, for smooth edges
	for y := range size {
		for x := range size {
			var r, g, b, a float64
			for sy := range n {
				for sx := range n {
					// (u, v) from -1 to 1 across the icon
					u := (float64(x)+(float64(sx)+0.5)/n)/float64(size)*2 - 1
					v := (float64(y)+(float64(sy)+0.5)/n)/float64(size)*2 - 1
					c, in := eyeAt(u, v, blue, white)
					if in {
						r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
					}
				}
			}
			if a > 0 {
				img.SetNRGBA(x, y, color.NRGBA{R: uint8(r / a), G: uint8(g / a), B: uint8(b / a), A: uint8(a / n / n * 255)})
			}
		}
	}
	return img
}

// eyeAt is the icon's colour at (u, v), -1…1 across, and whether the icon covers it.
func eyeAt(u, v float64, blue, white color.NRGBA) (color.NRGBA, bool) {
	switch {
	case u*u+v*v > 1:
		return color.NRGBA{}, false
	case u*u+v*v < 0.2*0.2: // the pupil
		return blue, true
	case u*u < 0.75*0.75 && v*v < (0.42*(1-u*u/0.5625))*(0.42*(1-u*u/0.5625)): // the eye's almond
		return white, true
	}
	return blue, true
}
