package xdesktop

import "github.com/jezek/xgb/xproto"

// keyPos is where a keysym sits on the keyboard: its keycode and shift level (0 plain, 1 Shift).
type keyPos struct {
	code  xproto.Keycode
	level int
}

// keymap is the core keyboard mapping read with GetKeyboardMapping: per keycode, perCode keysyms
// of which the first two are group 1's plain and shifted levels.
type keymap struct {
	min     xproto.Keycode
	perCode int
	syms    []xproto.Keysym
}

// lookup indexes the mapping by keysym. A keysym on several keys takes the lowest level and, at
// equal level, the lowest keycode, so 'a' is typed without Shift and '1' with the main row.
// Keysyms in other groups or levels (AltGr) are left out: typing them by a spare keycode is
// more reliable than guessing which modifier selects the level.
func (m keymap) lookup() map[uint32]keyPos {
	out := make(map[uint32]keyPos)
	keys := m.keys()
	for level := 0; level < 2 && level < m.perCode; level++ {
		for i := 0; i < keys; i++ {
			sym := uint32(m.level(i, level))
			if sym == 0 {
				continue
			}
			if _, ok := out[sym]; !ok {
				out[sym] = keyPos{code: m.min + xproto.Keycode(i), level: level}
			}
		}
	}
	return out
}

// keys is how many keycodes the mapping describes: whole ones only, even from a short reply, and
// none past keycode 255 (a reply longer than the keycodes there are would wrap around onto the
// first ones).
func (m keymap) keys() int {
	return min(len(m.syms)/m.perCode, 256-int(m.min))
}

// level returns the keysym of key i at the level, applying the core protocol's rule that a
// lone lowercase letter means (lower, upper).
func (m keymap) level(i, level int) xproto.Keysym {
	s0 := m.syms[i*m.perCode]
	var s1 xproto.Keysym
	if m.perCode > 1 {
		s1 = m.syms[i*m.perCode+1]
	}
	if s1 == 0 {
		if up, ok := upperLatin1(uint32(s0)); ok {
			s1 = xproto.Keysym(up)
		} else if level == 1 {
			s1 = s0 // (K, NoSymbol) means K on both levels; the plain level is preferred anyway
		}
	}
	if level == 0 {
		return s0
	}
	return s1
}

// spare returns the keycodes that carry no keysym at all, free for remapping.
func (m keymap) spare() []xproto.Keycode {
	var out []xproto.Keycode
	for i := range m.keys() {
		empty := true
		for _, s := range m.syms[i*m.perCode : (i+1)*m.perCode] {
			if s != 0 {
				empty = false
				break
			}
		}
		if empty {
			out = append(out, m.min+xproto.Keycode(i))
		}
	}
	return out
}

// upperLatin1 returns the uppercase keysym of a lowercase Latin-1 letter keysym.
func upperLatin1(sym uint32) (uint32, bool) {
	switch {
	case sym >= 'a' && sym <= 'z':
		return sym - 0x20, true
	case sym >= 0xe0 && sym <= 0xfe && sym != 0xf7:
		return sym - 0x20, true
	}
	return 0, false
}

// Keysyms of the modifiers, as a viewer sends them.
const (
	keysymShiftL   = 0xffe1
	keysymShiftR   = 0xffe2
	keysymControlL = 0xffe3
	keysymControlR = 0xffe4
	keysymCapsLock = 0xffe5
	keysymMetaL    = 0xffe7
	keysymMetaR    = 0xffe8
	keysymAltL     = 0xffe9
	keysymAltR     = 0xffea
	keysymSuperL   = 0xffeb
	keysymSuperR   = 0xffec
	keysymAltGr    = 0xfe03 // ISO_Level3_Shift
)

func isShift(sym uint32) bool { return sym == keysymShiftL || sym == keysymShiftR }

// isModifier reports keysyms pressed for their own sake, never with Shift added.
func isModifier(sym uint32) bool {
	return sym >= keysymShiftL && sym <= keysymSuperR || sym == keysymAltGr
}
