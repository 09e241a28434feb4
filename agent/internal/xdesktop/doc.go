// Package xdesktop is the agent's real desktop on X11, spoken to in pure Go over the X protocol
// (jezek/xgb): screen capture through a persistent MIT-SHM segment, change notification through
// the DAMAGE extension, the pointer's shape through XFixes, input injection through XTEST, and
// the CLIPBOARD selection. A *Desktop implements rdp.Screen, rdp.ChangeWaiter, rdp.CursorSource,
// rdp.Injector and rdp.Clipboard.
//
// Why XTEST rather than robotgo on Linux: the injector tests type the same text through both
// into a real xterm. XTEST takes the keysyms the viewer sends as they are, types Latin-1 and
// other symbols that are not on the keyboard by remapping a spare keycode, adds or lifts Shift
// as the keysym needs, and keeps the agent free of cgo on Linux; robotgo only knows its own key
// names, cannot send a keysym that is not on the keyboard (é on a US map), and crashes the
// process inside C when the display goes away. robotgo stays the injector for the platforms
// without X (see robot.go, built with cgo off Linux or with the robotgo tag on Linux).
package xdesktop
