package rdp

import (
	"context"
	"image"
)

// Monitor is one physical screen of the agent's desktop, placed in virtual-screen coordinates.
type Monitor struct {
	X, Y, W, H int
	Primary    bool
	Name       string
}

// Bounds returns the monitor's rectangle in virtual-screen coordinates.
func (m Monitor) Bounds() image.Rectangle { return image.Rect(m.X, m.Y, m.X+m.W, m.Y+m.H) }

// Screen is what the framebuffer side reads. The agent's X11 capture implements it.
type Screen interface {
	// Monitors returns the current layout. The bounding box of all monitors is the virtual screen.
	Monitors() ([]Monitor, error)
	// Capture copies the pixels of r (virtual-screen coordinates) into dst, whose bounds are
	// r.Dx()×r.Dy() starting at (0,0). dst is reused between calls; Capture must not keep it.
	Capture(dst *image.RGBA, r image.Rectangle) error
}

// Injector is what the input side drives. The agent's X11 injection implements it.
// Coordinates are virtual-screen pixels; keys are X11 keysyms.
type Injector interface {
	Key(keysym uint32, down bool) error
	// Pointer moves the pointer and sets the button mask (bit 0 left, 1 middle, 2 right).
	Pointer(x, y int, buttons uint8) error
	// Scroll turns the wheel: dy > 0 scrolls down, dx > 0 scrolls right, in notches.
	Scroll(dx, dy int) error
}

// Clipboard is an optional capability of an Injector or Screen, found by type assertion.
type Clipboard interface {
	ReadClipboard() (string, error)
	WriteClipboard(text string) error
}

// SecureAttention is an optional capability of an Injector, found by type assertion: whether
// Ctrl+Alt+Del, sent as key events, does on this desktop what the person pressing it would. On
// X11 they are three ordinary keys; on Windows synthesized keys never start the secure attention
// sequence (only a service's SendSAS does), so an injector there says false until it has one.
// The viewer offers Ctrl+Alt+Del only when the agent says true.
type SecureAttention interface {
	SecureAttentionKeys() bool
}

// CursorSource is an optional capability of a Screen: the pointer position and shape.
type CursorSource interface {
	// Cursor returns the pointer position, its image and hotspot, and a serial that changes
	// whenever the shape changes (so the shape is only sent when it changed).
	Cursor() (x, y int, shape *image.RGBA, hotX, hotY int, serial uint64, err error)
}

// ChangeWaiter is an optional capability of a Screen: it blocks until some part of the screen
// changed (X11 DAMAGE, for instance) and says where, so an idle screen costs no captures and a
// change is sent the moment it happens. Without it the framebuffer side polls.
type ChangeWaiter interface {
	WaitChange(ctx context.Context) ([]image.Rectangle, error)
}

// Grabber is an optional capability of a Screen: a capture in two steps. Grab reads the pixels
// of the areas in the screen's own format; the Frame it returns converts them to RGBA a band at
// a time. The framebuffer side converts each band of tile rows on the goroutine that diffs it,
// just before the diff: the conversion is shared among the encode's goroutines, and what it
// wrote is still in the cache when it is compared (a whole 1080p change on 2 cores: 2.3 ms for
// the conversion and then the diff, 1.2 ms band by band).
type Grabber interface {
	// Grab reads the pixels of areas (virtual-screen coordinates, disjoint). Parts of them
	// outside the screen come out opaque black. The Frame is valid until Release; the next
	// Grab waits for it.
	Grab(areas []image.Rectangle) (Frame, error)
}

// Frame is the pixels one Grab read.
type Frame interface {
	// Convert writes the pixels of r, which lies within the areas grabbed, into dst at r (dst
	// in virtual-screen coordinates). Calls for disjoint rectangles may run at once.
	Convert(dst *image.RGBA, r image.Rectangle)
	// Release hands the frame's memory back to the screen.
	Release()
}
