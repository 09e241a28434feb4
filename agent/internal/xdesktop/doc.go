// Package xdesktop is the agent's real desktop on X11, spoken to in pure Go over the X protocol
// (jezek/xgb): screen capture through a persistent MIT-SHM segment, change notification through
// the DAMAGE extension, the pointer's shape through XFixes, input injection through XTEST, and
// the CLIPBOARD selection. A *Desktop implements rdp.Screen, rdp.ChangeWaiter, rdp.CursorSource,
// rdp.Injector and rdp.Clipboard.
//
// Why XTEST rather than robotgo on Linux, decided by the tests in this package (the robotgo ones
// run with `go test -tags robotgo`), on Xvfb with robotgo v0.110.8:
//   - Typing into a real xterm: XTEST types every line of the test text, including é, ç, ü and €
//     (keysyms on no key of a US map, put on a spare keycode); robotgo has no name for them, so
//     its injector must refuse them.
//   - Named keys: XTEST delivers every one, F13–F24 and media keys included. robotgo sends '7'
//     for the keypad's '*', '`' for keypad Enter, and so on (raw keycodes where its X11 table
//     wants keysyms), has no X11 Menu key, and for a keysym that is on no key it sends keycode 0,
//     whose X error makes Xlib's default handler exit the whole process.
//   - Robustness: robotgo keeps an Xlib connection whose I/O error handler exits the process when
//     the X server goes away (seen in the tests when an Xvfb stopped first); it falls back to
//     $DISPLAY and ":0.0" when its display fails, so it can inject into the wrong session; and it
//     sleeps 10 ms after each key unless its global KeySleep is changed.
//   - XTEST keeps the Linux agent free of cgo.
//
// robotgo stays the injector for the platforms without X (RobotInjector in robot.go, built with
// cgo off Linux, or on Linux with the robotgo tag), with its keysym table in robotkeys.go.
package xdesktop
