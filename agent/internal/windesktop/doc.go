// Package windesktop is the agent's real desktop on Windows, spoken to in pure Go through
// golang.org/x/sys/windows and the system DLLs: the screen captured with DXGI desktop
// duplication (COM vtables; dirty rectangles and the pointer's shape) where it can be made, else
// with GDI (BitBlt from the screen into a DIB section kept between frames), the monitors
// enumerated with kbinani/screenshot, input injected with SendInput, and the clipboard as
// CF_UNICODETEXT. A *Desktop implements rdp.Screen, rdp.Injector, rdp.Clipboard,
// rdp.ChangeWaiter, rdp.CursorSource and rdp.SecureAttention (false: no ordinary process can
// start Ctrl+Alt+Del).
//
// The parts that decide rather than call the OS (the keysym table, the choice between a virtual
// key and KEYEVENTF_UNICODE, the pointer's normalised coordinates, the pixel conversion, the
// secure-desktop judgement, the clipboard's line ends, and all of duplication but its calls:
// frames, rectangles, pointer shapes, losing and falling back) carry no build tag, so their
// tests run on every platform; duplication's calls sit behind a small interface the tests fake.
// The calls themselves are tested under Wine (wine_test.go), which is where the GDI path was
// measured; Wine says nothing about real Windows' speed, and Wine 8.0 has no DuplicateOutput.
package windesktop
