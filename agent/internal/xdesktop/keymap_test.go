package xdesktop

import (
	"encoding/binary"
	"testing"

	"github.com/jezek/xgb/xproto"
)

// A slice of a real Xvfb map (keycodes 24–26, 50, 38; 7 keysyms per keycode).
func sampleKeymap() keymap {
	row := func(s ...xproto.Keysym) []xproto.Keysym { return append(s, make([]xproto.Keysym, 7-len(s))...) }
	var syms []xproto.Keysym
	syms = append(syms, row('q', 'Q', 'q', 'Q')...)            // 24
	syms = append(syms, row('w')...)                           // 25: lone lowercase means (w, W)
	syms = append(syms, row()...)                              // 26: empty, spare
	syms = append(syms, row('1', '!', '1', '!')...)            // 27
	syms = append(syms, row(keysymShiftL, 0, keysymShiftL)...) // 28
	return keymap{min: 24, perCode: 7, syms: syms}
}

func TestKeymapLookup(t *testing.T) {
	m := sampleKeymap()
	l := m.lookup()
	for sym, want := range map[uint32]keyPos{
		'q': {24, 0}, 'Q': {24, 1}, 'w': {25, 0}, 'W': {25, 1}, '1': {27, 0}, '!': {27, 1}, keysymShiftL: {28, 0},
	} {
		if got, ok := l[sym]; !ok || got != want {
			t.Errorf("lookup %#x = %+v, %v; want %+v", sym, got, ok, want)
		}
	}
	if sp := m.spare(); len(sp) != 1 || sp[0] != 26 {
		t.Errorf("spare = %v, want [26]", sp)
	}
}

// FuzzKeymap feeds arbitrary GetKeyboardMapping replies to the index: it must not panic, and
// every keysym it indexes must be where it says.
func FuzzKeymap(f *testing.F) {
	m := sampleKeymap()
	seed := make([]byte, 4*len(m.syms))
	for i, s := range m.syms {
		binary.LittleEndian.PutUint32(seed[4*i:], uint32(s))
	}
	f.Add(uint8(7), seed)
	f.Add(uint8(1), []byte{'a', 0, 0, 0})
	f.Fuzz(func(t *testing.T, per uint8, b []byte) {
		if per == 0 {
			return
		}
		syms := make([]xproto.Keysym, len(b)/4)
		for i := range syms {
			syms[i] = xproto.Keysym(binary.LittleEndian.Uint32(b[4*i:]))
		}
		m := keymap{min: 8, perCode: int(per), syms: syms}
		for sym, pos := range m.lookup() {
			if got := m.level(int(pos.code-8), pos.level); uint32(got) != sym {
				t.Fatalf("keysym %#x indexed at %+v, which holds %#x", sym, pos, got)
			}
		}
		m.spare()
	})
}
