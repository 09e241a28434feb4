//go:build (linux && !android) || freebsd || openbsd

package gui

import (
	"io"
	"log"
	"os"

	"gioui.org/app"
	"gioui.org/io/event"
	"gioui.org/io/system"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// keepOnTop asks the X window manager to keep w above other windows (_NET_WM_STATE_ABOVE, as
// EWMH says) once Gio reports the window's X11 ID, and raises it. Gio has no option for it.
// Under Wayland the compositor decides; the window is only raised.
func keepOnTop(w *app.Window, e event.Event) {
	v, ok := e.(app.X11ViewEvent)
	if !ok || v.Window == 0 {
		return
	}
	w.Perform(system.ActionRaise)
	xgb.Logger = log.New(io.Discard, "", 0) // it logs "Could not get authority info" otherwise
	c, err := xgb.NewConnDisplay(os.Getenv("DISPLAY"))
	if err != nil {
		return
	}
	defer c.Close()
	atom := func(name string) xproto.Atom {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			return 0
		}
		return r.Atom
	}
	state, above := atom("_NET_WM_STATE"), atom("_NET_WM_STATE_ABOVE")
	if state == 0 || above == 0 {
		return
	}
	root := xproto.Setup(c).DefaultScreen(c).Root
	ev := xproto.ClientMessageEvent{Format: 32, Window: xproto.Window(v.Window), Type: state,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{1, uint32(above), 0, 1, 0})}
	xproto.SendEvent(c, false, root, xproto.EventMaskSubstructureRedirect|xproto.EventMaskSubstructureNotify, string(ev.Bytes()))
	c.Sync()
}
