// Package workload changes an X display's screen in known ways, for the end-to-end benchmarks
// of screen sharing, and records when the X server has each change.
//
// Modes:
//   - full: a new desktop scene over the whole screen 60 times a second, never the same twice:
//     one of five window layouts (maximised, side by side, cascade, editor and terminal, dialog)
//     moved a few pixels each time, over a gradient wallpaper, every window filled with
//     anti-aliased TrueType text (the Go fonts) that continues a stream of words;
//   - typing: one 8×16 glyph every 100 ms, advancing like a cursor in a text area;
//   - scroll: a 1200×800 text area (centred, clipped to the screen) scrolled by one 16-pixel
//     line every 50 ms as a terminal does: the content moves up 16 px (CopyArea in the server)
//     and one new line is drawn at the bottom;
//   - video: a 640×360 region (centred) of a panning landscape with film grain, 30 frames a
//     second, on the otherwise still desktop of full mode's first scene;
//   - idle: the first scene, then nothing.
//
// It draws into an override-redirect window covering the screen, with MIT-SHM PutImage when the
// server offers it (plain PutImage otherwise), so the drawing costs little of the machine that
// is being measured.
//
// # Record
//
// Each change is written as one JSON line when the X server has processed it, which is taken
// as the moment a GetInputFocus round trip sent after the drawing requests returns:
//
//	{"n":12,"t":1732412345678901234,"x":360,"y":140,"w":1200,"h":800,"mx":360,"my":924}
//
// n numbers the changes from 1 (n 0 is the initial scene, drawn before the clock starts);
// t is Unix nanoseconds; x, y, w, h is the changed rectangle in root-window coordinates.
//
// # Marker
//
// Every change carries its number in one pixel, at (mx, my), inside the changed rectangle: red
// is bits 16–23 of n, green bits 8–15, blue bits 0–7 (see MarkerColor and MarkerNumber). The
// pixel is the top-left pixel of the screen for full, of the glyph cell for typing, of the
// new bottom line for scroll, and 64 pixels above the region's top-left for video (outside the
// film, so that a lossy encoding of the film keeps it exact). A viewer that receives a frame reads the pixel at (mx, my) of
// each recorded change; when it shows n, change n has arrived, and latency = arrival − t.
// Before change n that pixel held something else (change n−1's marker, or the text area's
// background, whose colour as a number is over 1.9 million), so a marker is never mistaken for
// an earlier state within that many changes.
package workload
