package gui

import (
	"log/slog"
	"sync"

	"gioui.org/layout"
)

// windowTrace tells Options.Trace what one window shows, as it draws it: its title when it is
// first drawn and whenever it changes, which widget holds the keyboard, and that it closed.
// A frame's lines are written once the frame is drawn, so whoever reads them (a test driving
// the app with real X input) knows that the screen shows it and that the next key goes where
// the line says.
type windowTrace struct {
	log *slog.Logger // nil: nobody listens

	mu      sync.Mutex // frames are the window's goroutine's; events come from others too
	title   string
	focus   string
	shown   bool    // a frame was drawn
	pending [][]any // the current frame's lines, until it is drawn
}

// frame notes, after the window's layout, a new title and a new keyboard focus; drawn writes
// them.
func (t *windowTrace) frame(gtx layout.Context, title string, widgets []focusable) {
	if t.log == nil {
		return
	}
	focus := ""
	for _, w := range widgets {
		if gtx.Focused(w.tag) {
			focus = w.name
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.shown || title != t.title {
		t.shown, t.title = true, title
		t.pending = append(t.pending, []any{"window", "title", title})
	}
	if focus != t.focus {
		t.focus = focus
		t.pending = append(t.pending, []any{"focus", "title", title, "widget", focus})
	}
}

// drawn writes the lines of the frame just drawn.
func (t *windowTrace) drawn() {
	if t.log == nil {
		return
	}
	t.mu.Lock()
	lines := t.pending
	t.pending = nil
	t.mu.Unlock()
	for _, l := range lines {
		t.log.Info(l[0].(string), l[1:]...)
	}
}

// note adds a line to the frame being laid out: what it shows besides title and focus.
func (t *windowTrace) note(msg string, args ...any) {
	if t.log == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, append([]any{msg, "title", t.title}, args...))
}

// event reports something the person did or that happened to the window, at once.
func (t *windowTrace) event(msg string, args ...any) {
	if t.log == nil {
		return
	}
	t.mu.Lock()
	title := t.title
	t.mu.Unlock()
	t.log.Info(msg, append([]any{"title", title}, args...)...)
}

// closed reports the window gone.
func (t *windowTrace) closed() { t.event("closed") }
