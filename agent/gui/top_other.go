//go:build !((linux && !android) || freebsd || openbsd || windows)

package gui

import (
	"gioui.org/app"
	"gioui.org/io/event"
	"gioui.org/io/system"
)

// keepOnTop raises w when it appears; staying on top on macOS would need an NSWindow level,
// which Gio does not offer. Only a window that is there is raised: the view event a closing
// window gets last (not valid) is passed over.
func keepOnTop(w *app.Window, e event.Event) {
	if v, ok := e.(app.ViewEvent); ok && v.Valid() {
		w.Perform(system.ActionRaise)
	}
}
