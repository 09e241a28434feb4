package gui

import (
	"gioui.org/app"
	"gioui.org/io/event"
	"gioui.org/io/system"
	"golang.org/x/sys/windows"
)

var setWindowPos = windows.NewLazySystemDLL("user32.dll").NewProc("SetWindowPos")

// keepOnTop makes w a topmost window (HWND_TOPMOST: above every window that is not, whichever
// the person clicks) once Gio reports its handle, and raises it. Gio has no option for it. The
// change is posted to the window's own thread (SWP_ASYNCWINDOWPOS): Gio's window thread may be
// waiting for this event to be handled. Only a window that is there is raised: the view event a
// closing window gets last (no handle) is passed over, or the dying window took the foreground
// from the window the person was in, and left it to none.
func keepOnTop(w *app.Window, e event.Event) {
	v, ok := e.(app.Win32ViewEvent)
	if !ok || v.HWND == 0 {
		return
	}
	w.Perform(system.ActionRaise)
	const (
		hwndTopmost       = ^uintptr(0) // (HWND)-1
		swpNoSize         = 0x0001
		swpNoMove         = 0x0002
		swpNoActivate     = 0x0010
		swpAsyncWindowPos = 0x4000
	)
	setWindowPos.Call(v.HWND, hwndTopmost, 0, 0, 0, 0, swpNoSize|swpNoMove|swpNoActivate|swpAsyncWindowPos)
}
