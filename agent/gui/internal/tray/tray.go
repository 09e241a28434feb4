// Package tray shows one icon in the desktop's notification area, with a tooltip and a menu:
// StatusNotifierItem over the D-Bus session bus on Linux and the BSDs (sni_unix.go), the shell's
// notification area on Windows (notify_windows.go). It knows nothing of sessions: the app says
// what the icon says and which commands its menu offers (agent/gui/tray.go). A desktop that has
// no notification area is not an error of the app's: Open says so with ErrUnavailable.
package tray

import (
	"errors"
	"image"
)

// ErrUnavailable wraps the reason the desktop shows no icon: no session bus, no
// StatusNotifierWatcher on it, no shell notification area, an OS without one here.
var ErrUnavailable = errors.New("the desktop has no notification area")

// State is what the icon says and offers.
type State struct {
	// Title names the app's state in a line ("Being assisted by Alice Tester (alice)").
	Title string
	// Text says it in full, a line for each thing ("Alice Tester (alice) can see your screen").
	Text string
	// Items are the menu's entries, in order.
	Items []Item
}

// Item is one menu entry: a command, or a line of text when Do is nil.
type Item struct {
	Label string
	Do    func() // run on a goroutine of its own
}

// Options configure an icon.
type Options struct {
	// ID names the app to the desktop ("assist-agent").
	ID string
	// Image draws the icon at size × size pixels.
	Image func(size int) *image.NRGBA
	// Activate runs, on a goroutine of its own, when the person activates the icon itself
	// (a left click) rather than a menu entry.
	Activate func()
}
