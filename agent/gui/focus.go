package gui

import (
	"gioui.org/io/event"
	"gioui.org/io/key"
	"gioui.org/layout"
)

// focusable is a widget that can hold the keyboard, under the name the trace gives it: its
// label, as a screen reader says it.
type focusable struct {
	tag  event.Tag
	name string
}

// tabKeys moves the keyboard along widgets, in their order, on Tab and Shift-Tab. Gio's window
// moves the focus itself only when no earlier input waits for a frame, and drops the Tab
// otherwise: a person (or a test) who types a word and Tab faster than the app draws lost the
// Tab, and the next word went into the same field. A focus command is ordered with the input
// around it, so here every Tab counts.
func tabKeys(gtx layout.Context, widgets []focusable) {
	for {
		ev, ok := gtx.Event(key.Filter{Name: key.NameTab, Optional: key.ModShift})
		if !ok {
			return
		}
		e, ok := ev.(key.Event)
		if !ok || e.State != key.Press || len(widgets) == 0 {
			continue
		}
		at := -1
		for i, w := range widgets {
			if gtx.Focused(w.tag) {
				at = i
			}
		}
		n := len(widgets)
		next := (at + 1) % n
		if e.Modifiers.Contain(key.ModShift) {
			next = (at - 1 + n) % n
			if at < 0 {
				next = n - 1
			}
		}
		gtx.Execute(key.FocusCmd{Tag: widgets[next].tag})
	}
}
