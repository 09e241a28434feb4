package windesktop

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf16"
)

// Windows virtual-key codes (WinUser.h) that the tables and rules below name.
const (
	vkShiftL   = 0xa0
	vkShiftR   = 0xa1
	vkControlL = 0xa2
	vkControlR = 0xa3
	vkMenuL    = 0xa4 // Alt
	vkMenuR    = 0xa5
	vkWinL     = 0x5b
	vkWinR     = 0x5c
	vkDelete   = 0x2e
)

// KEYBDINPUT flags.
const (
	keyExtended = 0x0001
	keyUp       = 0x0002
	keyUnicode  = 0x0004
)

// vkey is a virtual key and whether it is one of the extended keys (the arrows and the block
// above them, the right-hand modifiers, keypad Enter and /), which SendInput must be told.
type vkey struct {
	vk       uint16
	extended bool
}

// namedKeys maps the X11 keysyms of keys that type no character to virtual keys. A keysym that
// is neither here nor a character has no key on Windows, and is dropped.
var namedKeys = map[uint32]vkey{
	0xff08: {0x08, false}, 0xff09: {0x09, false}, 0xff0d: {0x0d, false}, 0xff1b: {0x1b, false}, // BackSpace Tab Return Escape
	0xff13: {0x13, false}, 0xff14: {0x91, false}, 0xff61: {0x2c, true}, // Pause Scroll_Lock Print
	0xffff: {vkDelete, true}, 0xff63: {0x2d, true}, 0xff50: {0x24, true}, 0xff57: {0x23, true}, // Delete Insert Home End
	0xff55: {0x21, true}, 0xff56: {0x22, true}, // Prior Next
	0xff51: {0x25, true}, 0xff52: {0x26, true}, 0xff53: {0x27, true}, 0xff54: {0x28, true}, // Left Up Right Down
	0xff67: {0x5d, true}, 0xffe5: {0x14, false}, 0xff7f: {0x90, true}, // Menu Caps_Lock Num_Lock
	0xffe1: {vkShiftL, false}, 0xffe2: {vkShiftR, false},
	0xffe3: {vkControlL, false}, 0xffe4: {vkControlR, true},
	0xffe9: {vkMenuL, false}, 0xffea: {vkMenuR, true},
	0xffe7: {vkWinL, true}, 0xffe8: {vkWinR, true}, 0xffeb: {vkWinL, true}, 0xffec: {vkWinR, true}, // Meta Super
	0x0020: {0x20, false}, // space
	// The keypad, Num Lock on and off.
	0xffb0: {0x60, false}, 0xffb1: {0x61, false}, 0xffb2: {0x62, false}, 0xffb3: {0x63, false}, 0xffb4: {0x64, false},
	0xffb5: {0x65, false}, 0xffb6: {0x66, false}, 0xffb7: {0x67, false}, 0xffb8: {0x68, false}, 0xffb9: {0x69, false},
	0xffaa: {0x6a, false}, 0xffab: {0x6b, false}, 0xffac: {0x6c, false}, 0xffad: {0x6d, false}, 0xffae: {0x6e, false},
	0xffaf: {0x6f, true}, 0xff8d: {0x0d, true}, // KP_Divide KP_Enter
	0xff95: {0x24, false}, 0xff96: {0x25, false}, 0xff97: {0x26, false}, 0xff98: {0x27, false}, 0xff99: {0x28, false},
	0xff9a: {0x21, false}, 0xff9b: {0x22, false}, 0xff9c: {0x23, false}, 0xff9d: {0x0c, false}, 0xff9e: {0x2d, false},
	0xff9f: {vkDelete, false},
	// Media and browser keys (XF86 keysyms).
	0x1008ff12: {0xad, true}, 0x1008ff11: {0xae, true}, 0x1008ff13: {0xaf, true}, // mute, volume down, up
	0x1008ff17: {0xb0, true}, 0x1008ff16: {0xb1, true}, 0x1008ff15: {0xb2, true}, 0x1008ff14: {0xb3, true}, // next prev stop play
	0x1008ff26: {0xa6, true}, 0x1008ff27: {0xa7, true}, 0x1008ff29: {0xa8, true}, 0x1008ff1b: {0xaa, true}, 0x1008ff18: {0xac, true},
}

// keysymAltGr is ISO_Level3_Shift. The viewer's AltGr picked the character the technician's
// layout gives, and that character arrives as its own keysym; pressing AltGr on Windows (as
// Ctrl+Alt) would turn it into a shortcut. So AltGr is not sent.
const keysymAltGr = 0xfe03

// namedKey returns the virtual key of a keysym that types no character.
func namedKey(sym uint32) (vkey, bool) {
	if sym >= 0xffbe && sym <= 0xffd5 { // F1–F24
		return vkey{vk: uint16(0x70 + sym - 0xffbe)}, true
	}
	k, ok := namedKeys[sym]
	return k, ok
}

// keysymRune returns the character a keysym types: Latin-1 keysyms are their own code point,
// 0x01000000+U the Unicode ones; EuroSign is the one legacy keysym outside those that viewers
// send. Control characters type nothing.
func keysymRune(sym uint32) (rune, bool) {
	switch {
	case sym >= 0x20 && sym <= 0x7e, sym >= 0xa0 && sym <= 0xff:
		return rune(sym), true
	case sym == 0x20ac:
		return '€', true
	case sym >= 0x010000a0 && sym <= 0x0110ffff:
		r := rune(sym - 0x01000000)
		return r, r < 0xd800 || r > 0xdfff
	}
	return 0, false
}

// layout is the person's keyboard layout as the planner asks it.
type layout interface {
	// charKey returns the key that types r on this layout and whether it needs Shift; ok is
	// false when no key does, when it needs Ctrl or Alt (AltGr), or when it is a dead key.
	charKey(r rune) (vk uint16, shift, ok bool)
	// scan returns the scan code of a virtual key (0 when unknown).
	scan(vk uint16) uint16
}

// keyEvent is one KEYBDINPUT: a virtual key, or with keyUnicode a UTF-16 unit in scan.
type keyEvent struct {
	vk, scan uint16
	flags    uint32
}

// keyboard turns the viewer's keysyms into key events. What a keysym's press sent is kept
// until its release, so the release sends the same key even if the modifiers changed, and
// releaseAll lets go of everything a session leaves held.
type keyboard struct {
	layout  layout
	send    func([]keyEvent) error
	dropped atomic.Uint64

	mu   sync.Mutex
	held map[uint32][]keyEvent // keysym → the down events it sent
}

func newKeyboard(l layout, send func([]keyEvent) error) *keyboard {
	return &keyboard{layout: l, send: send, held: map[uint32][]keyEvent{}}
}

// key presses or releases the key of sym. A keysym with no key is dropped and counted, never
// sent as another key; a release of a key not held is ignored.
func (k *keyboard) key(sym uint32, down bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keyLocked(sym, down)
}

func (k *keyboard) keyLocked(sym uint32, down bool) error {
	if sym == keysymAltGr {
		return nil
	}
	if !down {
		evs, ok := k.held[sym]
		if !ok {
			return nil
		}
		delete(k.held, sym)
		return k.send(released(evs))
	}
	evs, ok := k.held[sym]
	if !ok {
		if evs, ok = k.plan(sym); !ok {
			n := k.dropped.Add(1)
			return fmt.Errorf("windesktop: keysym %#x has no key on Windows: dropped (%d so far)", sym, n)
		}
		k.held[sym] = evs
	}
	return k.send(evs) // a second down without an up is the viewer's auto-repeat
}

// plan returns the down events for sym.
func (k *keyboard) plan(sym uint32) ([]keyEvent, bool) {
	if nk, ok := namedKey(sym); ok {
		return []keyEvent{k.vkEvent(nk)}, true
	}
	r, ok := keysymRune(sym)
	if !ok {
		return nil, false
	}
	if vk, shift, ok := k.layout.charKey(r); ok && (k.shortcut() || shift == k.holds(vkShiftL, vkShiftR)) {
		return []keyEvent{k.vkEvent(vkey{vk: vk})}, true
	}
	// The layout lacks the character, or typing it would take a Shift state other than the one
	// held: send the character itself.
	var evs []keyEvent
	for _, u := range utf16.Encode([]rune{r}) {
		evs = append(evs, keyEvent{scan: u, flags: keyUnicode})
	}
	return evs, true
}

// shortcut reports whether Ctrl, Alt or Windows is held: then a character is its key, as in
// Ctrl+C, whatever Shift says.
func (k *keyboard) shortcut() bool {
	return k.holds(vkControlL, vkControlR, vkMenuL, vkMenuR, vkWinL, vkWinR)
}

func (k *keyboard) holds(vks ...uint16) bool {
	for _, evs := range k.held {
		if len(evs) == 1 && evs[0].flags&keyUnicode == 0 && slices.Contains(vks, evs[0].vk) {
			return true
		}
	}
	return false
}

func (k *keyboard) vkEvent(nk vkey) keyEvent {
	ev := keyEvent{vk: nk.vk, scan: k.layout.scan(nk.vk)}
	if nk.extended {
		ev.flags |= keyExtended
	}
	return ev
}

// released returns the up events for down events, in reverse order.
func released(down []keyEvent) []keyEvent {
	up := make([]keyEvent, len(down))
	for i, ev := range down {
		ev.flags |= keyUp
		up[len(down)-1-i] = ev
	}
	return up
}

// releaseAll lets go of every held key, in keysym order.
func (k *keyboard) releaseAll() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	for _, s := range slices.Sorted(maps.Keys(k.held)) {
		errs = append(errs, k.keyLocked(s, false))
	}
	return errors.Join(errs...)
}
