package windesktop

import "image"

// MOUSEINPUT flags.
const (
	mouseMove        = 0x0001
	mouseLeftDown    = 0x0002
	mouseLeftUp      = 0x0004
	mouseRightDown   = 0x0008
	mouseRightUp     = 0x0010
	mouseMiddleDown  = 0x0020
	mouseMiddleUp    = 0x0040
	mouseWheel       = 0x0800
	mouseHWheel      = 0x1000
	mouseVirtualDesk = 0x4000
	mouseAbsolute    = 0x8000

	wheelDelta = 120 // one notch
)

// mouseEvent is one MOUSEINPUT.
type mouseEvent struct {
	dx, dy    int32
	mouseData int32
	flags     uint32
}

// normalise maps a pixel of the virtual screen v to the 0–65535 coordinates of an absolute
// MOUSEEVENTF_VIRTUALDESK move. Windows turns them back into pixels as n·width/65536, rounded
// down (Wine rounds to nearest); ceil(p·65536/width) lands on pixel p under both rules for any
// width below 32768.
func normalise(x, y int, v image.Rectangle) (int32, int32) {
	f := func(p, origin, size int) int32 {
		if size <= 0 {
			return 0
		}
		p = min(max(p-origin, 0), size-1)
		return int32((p*65536 + size - 1) / size)
	}
	return f(x, v.Min.X, v.Dx()), f(y, v.Min.Y, v.Dy())
}

// pointerEvents returns the events that move the pointer to (x, y) and change the buttons from
// was to now (bit 0 left, 1 middle, 2 right): the move first, so a press lands where it should.
func pointerEvents(x, y int, v image.Rectangle, was, now uint8) []mouseEvent {
	dx, dy := normalise(x, y, v)
	evs := []mouseEvent{{dx: dx, dy: dy, flags: mouseMove | mouseAbsolute | mouseVirtualDesk}}
	for _, b := range [...]struct {
		bit      uint8
		down, up uint32
	}{{1, mouseLeftDown, mouseLeftUp}, {2, mouseMiddleDown, mouseMiddleUp}, {4, mouseRightDown, mouseRightUp}} {
		switch {
		case now&b.bit != 0 && was&b.bit == 0:
			evs = append(evs, mouseEvent{flags: b.down})
		case now&b.bit == 0 && was&b.bit != 0:
			evs = append(evs, mouseEvent{flags: b.up})
		}
	}
	return evs
}

// scrollEvents turns the wheel: dy > 0 scrolls down (a negative wheel delta on Windows), dx > 0
// scrolls right (a positive horizontal delta).
func scrollEvents(dx, dy int) []mouseEvent {
	var evs []mouseEvent
	if dy != 0 {
		evs = append(evs, mouseEvent{mouseData: int32(-dy * wheelDelta), flags: mouseWheel})
	}
	if dx != 0 {
		evs = append(evs, mouseEvent{mouseData: int32(dx * wheelDelta), flags: mouseHWheel})
	}
	return evs
}
