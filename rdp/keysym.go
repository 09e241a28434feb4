package rdp

// X11 keysyms for the control characters that text may carry.
const (
	keysymBackSpace = 0xff08
	keysymTab       = 0xff09
	keysymReturn    = 0xff0d
	keysymEscape    = 0xff1b
)

// RuneKeysym returns the X11 keysym that types r: Latin-1 characters are their own keysym,
// other characters 0x01000000 + the code point (X11's Unicode keysyms); '\n' and '\r' are
// Return, '\t' Tab, '\b' BackSpace, ESC Escape. Other control characters return 0: they
// cannot be typed.
func RuneKeysym(r rune) uint32 {
	switch r {
	case '\n', '\r':
		return keysymReturn
	case '\t':
		return keysymTab
	case '\b':
		return keysymBackSpace
	case 0x1b:
		return keysymEscape
	}
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r > 0x10ffff, r >= 0xd800 && r < 0xe000:
		return 0
	case r <= 0xff:
		return uint32(r)
	}
	return 0x01000000 + uint32(r)
}
