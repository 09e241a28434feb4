package gui

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gioui.org/app"
	"gioui.org/io/system"
	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/protocol"
)

// BarTitle is the title of the bar shown while a technician is connected.
func BarTitle(fullName, account string) string {
	return "Being assisted by " + who(fullName, account)
}

// bar is the small always-on-top window of a live session: who, with what rights, Stop and
// Switch to view only. It stays in the captured screen, so the technician sees it too.
type bar struct {
	g    *GUI
	w    *app.Window
	th   *material.Theme // its own: a theme's text shaper is for one goroutine
	stop widget.Clickable
	view widget.Clickable

	title string
	trace windowTrace
	info  chanInfo

	// gone is set when the session ended. A close asked of a window whose loop has not made it
	// yet is lost (the icon's Stop could end a session before its bar was first drawn, and the
	// bar then stayed up), so the bar's loop closes it itself on seeing gone.
	gone atomic.Bool

	mu   sync.Mutex
	ends time.Time // when the gateway said it ends the session; zero: no end near
	why  string
}

// chanInfo holds the session's latest state for the bar's goroutine.
type chanInfo struct{ c chan agent.SessionInfo }

func (g *GUI) showBar(s agent.SessionInfo) {
	g.mu.Lock()
	b := g.bars[s.ID]
	if b == nil {
		b = &bar{g: g, w: new(app.Window), th: newTheme(), info: chanInfo{make(chan agent.SessionInfo, 1)},
			title: BarTitle(s.FullName, s.Technician), trace: windowTrace{log: g.opts.Trace}}
		g.bars[s.ID] = b
		b.w.Option(app.Title(b.title), app.Size(unit.Dp(640), unit.Dp(72)), app.MaxSize(unit.Dp(900), unit.Dp(120)))
		go b.run(s)
	}
	g.sessions[s.ID] = s
	g.showIcon()
	g.mu.Unlock()
	select {
	case <-b.info.c:
	default:
	}
	b.info.c <- s
	b.w.Invalidate()
}

// limitBar shows, in the session's bar, when the gateway will end the session (or that it
// will not any more).
func (g *GUI) limitBar(s agent.SessionInfo) {
	g.mu.Lock()
	b := g.bars[s.ID]
	g.mu.Unlock()
	if b == nil {
		return
	}
	b.mu.Lock()
	b.ends, b.why = time.Time{}, s.EndsWhy
	if s.EndsIn > 0 {
		b.ends = time.Now().Add(s.EndsIn)
	}
	b.mu.Unlock()
	b.w.Invalidate()
}

// endsIn is the countdown the bar shows, or "".
func (b *bar) endsIn(gtx layout.Context) string {
	b.mu.Lock()
	ends := b.ends
	b.mu.Unlock()
	if ends.IsZero() {
		return ""
	}
	left := max(time.Until(ends).Round(time.Second), 0)
	gtx.Execute(op.InvalidateCmd{At: gtx.Now.Add(time.Second)})
	return fmt.Sprintf(" · the session ends in %d:%02d", int(left.Minutes()), int(left.Seconds())%60)
}

func (g *GUI) closeBar(id string) {
	g.mu.Lock()
	b := g.bars[id]
	delete(g.bars, id)
	delete(g.sessions, id)
	g.showIcon()
	g.mu.Unlock()
	if b != nil {
		b.gone.Store(true)
		closeWindow(b.w)
	}
}

func (g *GUI) closeAllBars() {
	g.mu.Lock()
	ids := make([]string, 0, len(g.bars))
	for id := range g.bars {
		ids = append(ids, id)
	}
	g.mu.Unlock()
	for _, id := range ids {
		g.closeBar(id)
	}
}

func (b *bar) run(s agent.SessionInfo) {
	var ops op.Ops
	var shown protocol.Grant
	closing := false
	for {
		switch e := b.w.Event().(type) {
		case app.DestroyEvent:
			b.trace.closed()
			return
		case app.FrameEvent:
			if b.gone.Load() && !closing {
				closing = true
				b.w.Perform(system.ActionClose)
			}
			select {
			case s = <-b.info.c:
			default:
			}
			gtx := app.NewContext(&ops, e)
			b.trace.frame(gtx, b.title, b.layout(gtx, s))
			if s.Grant != shown { // the words on the bar change
				shown = s.Grant
				b.trace.note("rights", "grant", shown.String())
			}
			e.Frame(gtx.Ops)
			b.trace.drawn()
		default:
			keepOnTop(b.w, e)
		}
	}
}

// layout draws the bar and returns its widgets that can hold the keyboard.
func (b *bar) layout(gtx layout.Context, s agent.SessionInfo) []focusable {
	th := b.th
	widgets := []focusable{{&b.stop, "Stop"}}
	if s.Grant.Allows(protocol.GrantControl) {
		widgets = append([]focusable{{&b.view, "Switch to view only"}}, widgets...)
	}
	tabKeys(gtx, widgets)
	if b.stop.Clicked(gtx) {
		go b.g.stop()
	}
	if b.view.Clicked(gtx) {
		go b.g.viewOnly(s.ID)
	}
	paintBackground(gtx, th.Palette.ContrastBg)
	words := material.Body1(th, barWords(s)+b.endsIn(gtx))
	words.Color = th.Palette.ContrastFg
	children := []layout.FlexChild{layout.Flexed(1, words.Layout)}
	if s.Grant.Allows(protocol.GrantControl) {
		children = append(children, layout.Rigid(lightButton(th, &b.view, "Switch to view only")))
	}
	children = append(children, layout.Rigid(lightButton(th, &b.stop, "Stop")))
	layout.UniformInset(unit.Dp(12)).Layout(gtx, func(gtx layout.Context) layout.Dimensions {
		return layout.Flex{Axis: layout.Horizontal, Alignment: layout.Middle}.Layout(gtx, children...)
	})
	return widgets
}

func lightButton(th *material.Theme, c *widget.Clickable, label string) layout.Widget {
	b := material.Button(th, c, label)
	b.Background, b.Color = th.Palette.ContrastFg, th.Palette.ContrastBg
	return func(gtx layout.Context) layout.Dimensions {
		return layout.Inset{Left: unit.Dp(8)}.Layout(gtx, b.Layout)
	}
}

// barWords say who is connected and with what rights ("Alice Tester (alice) can see your
// screen"), on the bar and in the notification area's icon.
func barWords(s agent.SessionInfo) string {
	return who(s.FullName, s.Technician) + " " + rights(s.Grant)
}

// rights says what a grant lets the technician do, after their name.
func rights(g protocol.Grant) string {
	switch {
	case g.Allows(protocol.GrantControl | protocol.GrantFilesWrite):
		return "can see and control your screen and move files"
	case g.Allows(protocol.GrantControl):
		return "can see and control your screen"
	case g.Allows(protocol.GrantView | protocol.GrantFilesRead):
		return "can see your screen and move files"
	case g.Allows(protocol.GrantView):
		return "can see your screen"
	case g.Allows(protocol.GrantFilesRead):
		return "can move files"
	}
	return "is connected (" + g.String() + ")"
}
