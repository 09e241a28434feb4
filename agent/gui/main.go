package gui

import (
	"errors"
	"fmt"
	"image/color"
	"strings"
	"sync"

	"gioui.org/font"
	"gioui.org/io/key"
	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

type phase int

const (
	phaseIdle phase = iota
	phaseForm
	phaseConnecting
	phaseWaiting
	phaseEnded
)

// mainView is the main window's content: the form, then the code and the connection, then the
// end. Its widgets belong to the window's goroutine; the rest is guarded by mu.
type mainView struct {
	g *GUI

	name, email, phone, message     widget.Editor
	reply                           widget.Editor // the person's chat message to the help desk
	ask, withdraw, close, sendReply widget.Clickable
	list                            widget.List
	shown                           phase // the phase laid out last

	mu       sync.Mutex
	phase    phase
	known    tickets.Form
	errs     map[string]string
	sent     chan tickets.Form
	code     string
	status   string // connected / reconnecting, and why
	notes    []string
	endWords string
	chatting bool // a technician wrote: the reply box shows
}

func newMainView(g *GUI) *mainView {
	v := &mainView{g: g}
	// Single lines: Enter in any field sends the form, and Tab always moves on (a multi-line
	// editor keeps Tab on X11).
	for _, e := range []*widget.Editor{&v.name, &v.email, &v.phone, &v.message} {
		e.SingleLine, e.Submit = true, true
	}
	v.reply.SingleLine, v.reply.Submit, v.reply.MaxLen = true, true, protocol.MaxChatText
	v.list.Axis = layout.Vertical
	return v
}

// askForm shows the form filled with known; the channel gets the cleaned form once sent.
func (v *mainView) askForm(known tickets.Form) <-chan tickets.Form {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.phase, v.known, v.sent = phaseForm, known, make(chan tickets.Form, 1)
	v.name.SetText(known.FullName)
	v.email.SetText(known.Email)
	v.phone.SetText(known.Phone)
	v.message.SetText(known.Message)
	return v.sent
}

func (v *mainView) filed(code string, resumed bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.phase, v.code = phaseWaiting, code
	v.status = "Connected to the help desk."
	if resumed {
		v.status = "Connected again to the help desk."
	}
}

func (v *mainView) reconnecting(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.status = fmt.Sprintf("Reconnecting… (%v)", err)
}

func (v *mainView) note(s string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.notes = append(v.notes, s)
	if len(v.notes) > 4 {
		v.notes = v.notes[1:]
	}
}

// chat shows a technician's message and, from the first, the box to answer in.
func (v *mainView) chat(from, text string) {
	v.note(fmt.Sprintf("%s says: %s", from, text))
	v.mu.Lock()
	defer v.mu.Unlock()
	v.chatting = true
}

// say sends what the reply box holds to the help desk and empties it; the main window notes it
// as said, or why it was not.
func (v *mainView) say() {
	text := strings.TrimSpace(v.reply.Text())
	c := v.g.currentControls()
	if text == "" || c == nil {
		return
	}
	v.reply.SetText("")
	go func() {
		if err := c.Say(text); err != nil {
			v.note("Not sent: " + err.Error() + ".")
			v.g.trace.event("chat refused", "text", text, "err", err.Error())
		} else {
			v.note("You: " + text)
			v.g.trace.event("chat sent", "text", text)
		}
		v.g.main.Invalidate()
	}()
}

func (v *mainView) ended(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.phase = phaseEnded
	switch {
	case errors.Is(err, agent.ErrWithdrawn):
		v.endWords = "Your request is withdrawn."
	case errors.Is(err, agent.ErrRequestClosed):
		v.endWords = "The help desk closed your request."
	case err != nil:
		v.endWords = "The request could not go on: " + err.Error()
	default:
		v.endWords = "The request ended."
	}
}

// destroyed runs when the window is gone: a request that is waiting is withdrawn.
func (v *mainView) destroyed() {
	v.mu.Lock()
	p := v.phase
	v.mu.Unlock()
	if p == phaseConnecting || p == phaseWaiting {
		v.g.withdraw()
	}
}

// focusables are the widgets of phase p that can hold the keyboard, in their Tab order.
func (v *mainView) focusables(p phase) []focusable {
	switch p {
	case phaseForm:
		return []focusable{{&v.name, "Full name"}, {&v.email, "Email"}, {&v.phone, "Phone"},
			{&v.message, "What do you need help with?"}, {&v.ask, "Ask for help"}}
	case phaseConnecting, phaseWaiting:
		v.mu.Lock()
		chatting := v.chatting
		v.mu.Unlock()
		if chatting {
			return []focusable{{&v.reply, "Reply to the help desk"}, {&v.sendReply, "Send"}, {&v.withdraw, "Withdraw request"}}
		}
		return []focusable{{&v.withdraw, "Withdraw request"}}
	case phaseEnded:
		return []focusable{{&v.close, "Close"}}
	}
	return nil
}

// layout draws the current phase and returns the widgets that can hold the keyboard.
func (v *mainView) layout(gtx layout.Context) []focusable {
	v.mu.Lock()
	p := v.phase
	v.mu.Unlock()
	widgets := v.focusables(p)
	tabKeys(gtx, widgets)
	paintBackground(gtx, v.g.th.Palette.Bg)
	var rows []layout.Widget
	if p != v.shown {
		v.shown = p
		v.entered(gtx, p)
	}
	switch p {
	case phaseIdle:
		rows = []layout.Widget{v.g.label(unit.Sp(16), "Starting…").Layout}
	case phaseForm:
		rows = v.formRows(gtx)
	case phaseConnecting, phaseWaiting:
		rows = v.waitingRows(gtx)
	case phaseEnded:
		rows = v.endedRows(gtx)
	}
	inset.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
		return material.List(v.g.th, &v.list).Layout(gtx, len(rows), func(gtx layout.Context, i int) layout.Dimensions {
			return layout.Inset{Bottom: unit.Dp(10)}.Layout(gtx, rows[i])
		})
	})
	return widgets
}

// titleOf is the main window's title in phase p.
func titleOf(p phase) string {
	switch p {
	case phaseForm:
		return titleForm
	case phaseConnecting, phaseWaiting:
		return titleWaiting
	case phaseEnded:
		return titleEnded
	}
	return titleStarting
}

// title is the title of the phase laid out last, which the trace gives the frame. A title
// another goroutine set could name the next phase in a frame still laid out in the one before;
// a Tab pressed on seeing it could then reach the next phase's first frame, whose entered takes
// the keyboard off the widgets after tabKeys moved it.
func (v *mainView) title() string { return titleOf(v.shown) }

// entered moves the keyboard for a new phase: to the first field of the form, and off the
// widgets of the phase before otherwise (a key meant for the new view must not go to a field
// that is gone; Tab then starts from the top, and no button is pressed by a stray Enter).
// Then it retitles the window, once the keyboard is where the phase wants it, so whoever waits
// for the title (a screen reader's window list, a test) types into the new view.
func (v *mainView) entered(gtx layout.Context, p phase) {
	defer v.g.setTitle(titleOf(p))
	var to *widget.Editor
	if p == phaseForm {
		to = &v.name
	}
	if to != nil {
		gtx.Execute(key.FocusCmd{Tag: to})
	} else {
		gtx.Execute(key.FocusCmd{})
	}
	gtx.Execute(op.InvalidateCmd{}) // the next frame shows, and traces, the focus
}

// formRows are the Ask for help form: the person's fields, the machine's read-only ones, the
// button, and each field's error under it.
func (v *mainView) formRows(gtx layout.Context) []layout.Widget {
	th := v.g.th
	submit := v.ask.Clicked(gtx)
	for _, e := range []*widget.Editor{&v.name, &v.email, &v.phone, &v.message} {
		for {
			ev, ok := e.Update(gtx)
			if !ok {
				break
			}
			if _, ok := ev.(widget.SubmitEvent); ok {
				submit = true
			}
		}
	}
	v.mu.Lock()
	known, errs := v.known, v.errs
	v.mu.Unlock()
	if submit {
		v.send(known)
		v.mu.Lock()
		errs = v.errs
		v.mu.Unlock()
	}
	title := material.H5(th, "Ask the help desk for help")
	title.Font.Weight = font.Bold
	rows := []layout.Widget{
		title.Layout,
		v.g.label(unit.Sp(14), "The help desk will see what you write here, and the code you get next.").Layout,
	}
	field := func(label, hint string, e *widget.Editor, errKey string) {
		rows = append(rows, fieldWidget(th, label, hint, e, errs[errKey]))
	}
	field("Full name", "Your first and last name", &v.name, "full name")
	field("Email", "name@example.org", &v.email, "email")
	field("Phone", "A number the help desk can call", &v.phone, "phone")
	field("What do you need help with?", "The printer says it is offline…", &v.message, "message")
	rows = append(rows,
		readOnly(th, "User name", known.UserName),
		readOnly(th, "Computer", known.Computer),
	)
	if v.g.opts.ScreenWhy != "" {
		rows = append(rows, warning(th, "Your screen cannot be shared ("+v.g.opts.ScreenWhy+"). The help desk can still work with your files."))
	}
	rows = append(rows, material.Button(th, &v.ask, "Ask for help").Layout)
	return rows
}

// send checks the form against the gateway's own bounds and, if it passes, hands it on.
func (v *mainView) send(known tickets.Form) {
	f := known
	f.FullName, f.Email, f.Phone, f.Message = v.name.Text(), v.email.Text(), v.phone.Text(), v.message.Text()
	errs := FieldErrors(f)
	for field, why := range errs {
		v.g.trace.note("refused", "field", field, "reason", why, "form", f)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = errs
	if len(errs) > 0 || v.phase != phaseForm {
		return
	}
	clean, err := f.Clean()
	if err != nil { // FieldErrors found nothing, so this is a field the person cannot change
		v.errs = map[string]string{"message": err.Error()}
		return
	}
	v.phase, v.status = phaseConnecting, "Connecting to the help desk at "+v.g.opts.Gateway+"…"
	v.sent <- clean
}

func (v *mainView) waitingRows(gtx layout.Context) []layout.Widget {
	th := v.g.th
	if v.withdraw.Clicked(gtx) {
		v.g.withdraw()
	}
	send := v.sendReply.Clicked(gtx)
	for {
		ev, ok := v.reply.Update(gtx)
		if !ok {
			break
		}
		if _, ok := ev.(widget.SubmitEvent); ok {
			send = true
		}
	}
	if send {
		v.say()
	}
	v.mu.Lock()
	code, status, notes, chatting := v.code, v.status, append([]string(nil), v.notes...), v.chatting
	v.mu.Unlock()
	rows := []layout.Widget{}
	if code == "" {
		rows = append(rows, v.g.label(unit.Sp(18), status).Layout)
	} else {
		rows = append(rows,
			v.g.label(unit.Sp(18), "Read this code to the help desk:").Layout,
			codeLabel(th, code),
			v.g.label(unit.Sp(14), "Help desk: "+v.g.opts.Gateway).Layout,
			v.g.label(unit.Sp(14), status).Layout,
			v.g.label(unit.Sp(14), "When a technician connects you are asked first. Nobody sees your screen before you allow it.").Layout,
		)
	}
	if v.g.opts.ScreenWhy != "" {
		rows = append(rows, warning(th, "Your screen cannot be shared ("+v.g.opts.ScreenWhy+"). The help desk can still work with your files."))
	}
	for _, n := range notes {
		rows = append(rows, v.g.label(unit.Sp(14), n).Layout)
	}
	if chatting {
		rows = append(rows, fieldWidget(th, "Reply to the help desk", "Type, then Enter", &v.reply, ""),
			material.Button(th, &v.sendReply, "Send").Layout)
	}
	rows = append(rows, material.Button(th, &v.withdraw, "Withdraw request").Layout)
	return rows
}

func (v *mainView) endedRows(gtx layout.Context) []layout.Widget {
	if v.close.Clicked(gtx) {
		closeWindow(v.g.main)
	}
	v.mu.Lock()
	words := v.endWords
	v.mu.Unlock()
	return []layout.Widget{
		v.g.label(unit.Sp(20), words).Layout,
		v.g.label(unit.Sp(14), "You can close this window.").Layout,
		material.Button(v.g.th, &v.close, "Close").Layout,
	}
}

// codeLabel is the request code in large type, spaced for reading aloud over the phone.
func codeLabel(th *material.Theme, code string) layout.Widget {
	l := material.Label(th, unit.Sp(56), code)
	l.Font.Typeface = "Go Mono"
	l.Font.Weight = font.Bold
	return l.Layout
}

func fieldWidget(th *material.Theme, label, hint string, e *widget.Editor, errText string) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		children := []layout.FlexChild{
			layout.Rigid(material.Label(th, unit.Sp(14), label).Layout),
			layout.Rigid(func(gtx layout.Context) layout.Dimensions {
				border := widget.Border{Color: color.NRGBA{A: 0x80}, CornerRadius: unit.Dp(4), Width: unit.Dp(1)}
				if errText != "" {
					border.Color = errorColor
				}
				return border.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
					return layout.UniformInset(unit.Dp(8)).Layout(gtx, material.Editor(th, e, hint).Layout)
				})
			}),
		}
		if errText != "" {
			l := material.Label(th, unit.Sp(13), errText)
			l.Color = errorColor
			children = append(children, layout.Rigid(l.Layout))
		}
		return layout.Flex{Axis: layout.Vertical}.Layout(gtx, children...)
	}
}

func readOnly(th *material.Theme, label, value string) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		return layout.Flex{Axis: layout.Horizontal}.Layout(gtx,
			layout.Rigid(material.Label(th, unit.Sp(14), label+": ").Layout),
			layout.Rigid(func(gtx layout.Context) layout.Dimensions {
				l := material.Label(th, unit.Sp(14), value)
				l.Font.Weight = font.Bold
				return l.Layout(gtx)
			}),
		)
	}
}

func warning(th *material.Theme, s string) layout.Widget {
	l := material.Label(th, unit.Sp(14), s)
	l.Color = color.NRGBA{R: 0x8a, G: 0x4b, A: 0xff}
	return l.Layout
}

var errorColor = color.NRGBA{R: 0xb0, G: 0x10, B: 0x10, A: 0xff}
