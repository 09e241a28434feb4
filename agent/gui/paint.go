package gui

import (
	"image/color"

	"gioui.org/app"
	"gioui.org/io/system"
	"gioui.org/layout"
	"gioui.org/op/clip"
	"gioui.org/op/paint"
)

// closeWindow asks w to close, from any goroutine. Gio's X11 driver sends the request on the
// display connection from the calling goroutine and leaves it in Xlib's buffer until the
// window's loop next wakes up and flushes: from outside that loop (the agent taking the bar
// down as a session ends) the bar stayed up. The invalidation wakes the loop.
func closeWindow(w *app.Window) {
	w.Perform(system.ActionClose)
	w.Invalidate()
}

func paintBackground(gtx layout.Context, c color.NRGBA) {
	paint.FillShape(gtx.Ops, c, clip.Rect{Max: gtx.Constraints.Max}.Op())
}
