package gui

import (
	"fmt"
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/windows"
)

// Gio's Windows backend (gioui.org v0.10.3, app/os_windows.go) gives up on a window when user32's
// RegisterTouchWindow or EnableMouseInPointer fails. Wine 8.0, which the tests run the Windows
// agent under (there is no Windows machine to test on), has both as stubs that fail with
// ERROR_CALL_NOT_IMPLEMENTED, so no window would open there. Under Wine only, the two procedures
// Gio calls are swapped for one that does nothing and succeeds (GetCurrentProcess, which returns
// a pseudo-handle, never 0, and has no effect); EnableMouseInPointer is first called for real,
// so a Wine that implements it still routes the mouse through WM_POINTER. Wine 8.0 sends no
// WM_POINTER messages and Gio reads the mouse from nothing else, so under Wine 8.0 the app's
// windows take the keyboard but no mouse. On Windows, which has no wine_get_version in ntdll,
// nothing is touched.
//
// The procedures are Gio's unexported package variables, reached with go:linkname, which Go's
// linker allows outside the standard library. It checks neither that they exist (a name Gio no
// longer has links as a new, nil variable) nor their type (*windows.LazyProc of golang.org/x/sys,
// as in Gio), so prepareWindowSystem checks that each is there and names its procedure before it
// touches them; if not, the window fails to open with that reason (and the Wine test fails).

//go:linkname gioRegisterTouchWindow gioui.org/app/internal/windows._RegisterTouchWindow
var gioRegisterTouchWindow *windows.LazyProc

//go:linkname gioEnableMouseInPointer gioui.org/app/internal/windows._EnableMouseInPointer
var gioEnableMouseInPointer *windows.LazyProc

// succeed is the procedure Gio calls instead under Wine.
const succeed = "GetCurrentProcess"

// prepareWindowSystem makes Gio's windows open under Wine; it runs before each main window.
func prepareWindowSystem() error {
	if !underWine() {
		return nil
	}
	for _, p := range []struct {
		v    *windows.LazyProc
		name string
	}{{gioRegisterTouchWindow, "RegisterTouchWindow"}, {gioEnableMouseInPointer, "EnableMouseInPointer"}} {
		if p.v == nil || p.v.Name != p.name && p.v.Name != succeed {
			return fmt.Errorf("under Wine: the window toolkit's %s is not where agent/gui/wine_windows.go expects it (did gioui.org change?)", p.name)
		}
	}
	if gioEnableMouseInPointer.Name == succeed { // swapped already
		return nil
	}
	if err := gioEnableMouseInPointer.Find(); err == nil {
		gioEnableMouseInPointer.Call(1) // fails on Wine 8.0: the stub
	}
	ok := windows.NewLazySystemDLL("kernel32.dll").NewProc(succeed)
	if err := ok.Find(); err != nil {
		return fmt.Errorf("under Wine: %w", err)
	}
	gioRegisterTouchWindow, gioEnableMouseInPointer = ok, ok
	return nil
}

// underWine says whether this program runs under Wine, whose ntdll exports wine_get_version
// (Windows' does not): the way Wine's own documentation tells programs to detect it.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
