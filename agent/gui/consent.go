package gui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gioui.org/app"
	"gioui.org/font"
	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"github.com/assistkit/assist/protocol"
)

// ConsentTitle is the consent dialog's window title for a technician.
func ConsentTitle(fullName, account string) string {
	return "Allow " + who(fullName, account) + " to connect?"
}

// consentChoice is one button of the consent dialog.
type consentChoice struct {
	label string
	grant protocol.Grant
	click widget.Clickable
}

// choices are the answers the agent can deliver; Deny is always one.
func choices(offer protocol.Grant) []*consentChoice {
	files := protocol.GrantFilesRead | protocol.GrantFilesWrite
	all := []*consentChoice{
		{label: "Deny"},
		{label: "View only", grant: protocol.GrantView},
		{label: "Control", grant: protocol.GrantView | protocol.GrantControl},
		{label: "Control and files", grant: protocol.GrantView | protocol.GrantControl | files},
	}
	if !offer.Allows(protocol.GrantView) {
		all = append(all[:1], &consentChoice{label: "Files only", grant: files})
	}
	var out []*consentChoice
	for _, c := range all {
		if c.grant == 0 || offer.Allows(c.grant) {
			out = append(out, c)
		}
	}
	return out
}

// Ask raises the consent dialog and waits for a button, the window's close (deny) or the
// deadline, at which the dialog closes itself; a click after that changes nothing.
func (g *GUI) Ask(ctx context.Context, ask protocol.ConsentAsk) (protocol.Grant, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Minute)
	}
	d := &consentDialog{g: g, th: newTheme(), ask: ask, deadline: deadline, choices: choices(g.opts.Offer), answer: make(chan protocol.Grant, 1),
		title: ConsentTitle(ask.FullName, ask.Technician), trace: windowTrace{log: g.opts.Trace}}
	d.w = new(app.Window)
	d.w.Option(app.Title(d.title), app.Size(unit.Dp(560), unit.Dp(380)))
	go d.run()
	name := who(ask.FullName, ask.Technician)
	select {
	case gr := <-d.answer:
		return gr, nil
	case <-ctx.Done():
		d.expire()
		g.view.note(fmt.Sprintf("%s asked to connect; there was no answer in time, so nobody was let in.", name))
		g.main.Invalidate()
		return 0, ctx.Err()
	}
}

type consentDialog struct {
	g        *GUI
	th       *material.Theme // its own: a theme's text shaper is for one goroutine
	ask      protocol.ConsentAsk
	deadline time.Time
	choices  []*consentChoice
	w        *app.Window
	answer   chan protocol.Grant
	title    string
	trace    windowTrace

	mu   sync.Mutex
	done bool // answered or expired: later clicks count for nothing
}

// give hands on the person's answer once, unless the question expired.
func (d *consentDialog) give(gr protocol.Grant, how string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		d.trace.event("answer ignored", "how", how, "grant", gr.String())
		return
	}
	d.done = true
	d.trace.event("answered", "how", how, "grant", gr.String())
	d.answer <- gr
}

// expire closes the dialog at the deadline: from now on nothing the person does counts.
func (d *consentDialog) expire() {
	d.mu.Lock()
	d.done = true
	d.mu.Unlock()
	d.trace.event("expired")
	closeWindow(d.w)
}

func (d *consentDialog) run() {
	var ops op.Ops
	for {
		switch e := d.w.Event().(type) {
		case app.DestroyEvent:
			d.give(0, "window closed") // closing the dialog is a no
			d.trace.closed()
			return
		case app.FrameEvent:
			gtx := app.NewContext(&ops, e)
			d.layout(gtx)
			d.trace.frame(gtx, d.title, d.focusables())
			e.Frame(gtx.Ops)
			d.trace.drawn()
		default:
			keepOnTop(d.w, e)
		}
	}
}

func (d *consentDialog) focusables() []focusable {
	out := make([]focusable, len(d.choices))
	for i, c := range d.choices {
		out[i] = focusable{&c.click, c.label}
	}
	return out
}

func (d *consentDialog) layout(gtx layout.Context) layout.Dimensions {
	th := d.th
	tabKeys(gtx, d.focusables())
	for _, c := range d.choices {
		if c.click.Clicked(gtx) {
			d.give(c.grant, c.label)
			closeWindow(d.w)
		}
	}
	left := time.Until(d.deadline)
	if left < 0 {
		left = 0
	}
	gtx.Execute(op.InvalidateCmd{At: gtx.Now.Add(left % time.Second)})
	paintBackground(gtx, th.Palette.Bg)
	title := material.H5(th, who(d.ask.FullName, d.ask.Technician)+" asks to connect to your computer")
	title.Font.Weight = font.Bold
	rows := []layout.FlexChild{
		layout.Rigid(title.Layout),
		layout.Rigid(spacer),
		layout.Rigid(material.Body1(th, "A technician of your help desk, for request "+d.ask.RequestCode+". Choose what they may do; you can stop them at any time."+recordedNote(d.ask)).Layout),
	}
	if d.g.opts.ScreenWhy != "" {
		rows = append(rows, layout.Rigid(spacer), layout.Rigid(warning(th, "Your screen cannot be shared ("+d.g.opts.ScreenWhy+"); only files can be offered.")))
	}
	rows = append(rows, layout.Rigid(spacer), layout.Rigid(func(gtx layout.Context) layout.Dimensions {
		var buttons []layout.FlexChild
		for i, c := range d.choices {
			b := material.Button(th, &c.click, c.label)
			if i == 0 {
				b.Background = errorColor
			}
			buttons = append(buttons, layout.Rigid(func(gtx layout.Context) layout.Dimensions {
				return layout.Inset{Right: unit.Dp(8)}.Layout(gtx, b.Layout)
			}))
		}
		return layout.Flex{Axis: layout.Horizontal}.Layout(gtx, buttons...)
	}), layout.Rigid(spacer),
		layout.Rigid(material.Body2(th, fmt.Sprintf("This question closes in %s; no answer lets nobody in.", countdown(left))).Layout))
	return inset.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
		return layout.Flex{Axis: layout.Vertical}.Layout(gtx, rows...)
	})
}

// countdown shows d as m:ss, rounded up so it reaches 0:00 only at the deadline.
func countdown(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func spacer(gtx layout.Context) layout.Dimensions {
	return layout.Spacer{Height: unit.Dp(12)}.Layout(gtx)
}

// recordedNote tells the person the gateway records the session, when it does.
func recordedNote(a protocol.ConsentAsk) string {
	if !a.Recorded {
		return ""
	}
	return " The help desk records this session: your screen, what the technician does and the files moved."
}
