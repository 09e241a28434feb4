package windesktop

import (
	"reflect"
	"testing"
)

// usLayout is a US keyboard as VkKeyScanW describes it, for the characters the tests type.
type usLayout struct{}

func (usLayout) charKey(r rune) (uint16, bool, bool) {
	switch {
	case r >= 'a' && r <= 'z':
		return uint16(r - 'a' + 'A'), false, true
	case r >= 'A' && r <= 'Z':
		return uint16(r), true, true
	case r >= '0' && r <= '9':
		return uint16(r), false, true
	case r == '@':
		return '2', true, true
	}
	return 0, false, false
}

func (usLayout) scan(vk uint16) uint16 { return vk + 0x100 } // recognisable, not real

type recorder struct{ evs []keyEvent }

func (r *recorder) send(evs []keyEvent) error { r.evs = append(r.evs, evs...); return nil }

func vkDown(vk uint16, ext bool) keyEvent {
	ev := keyEvent{vk: vk, scan: vk + 0x100}
	if ext {
		ev.flags = keyExtended
	}
	return ev
}

func vkUp(vk uint16, ext bool) keyEvent { ev := vkDown(vk, ext); ev.flags |= keyUp; return ev }

func uni(u uint16, up bool) keyEvent {
	ev := keyEvent{scan: u, flags: keyUnicode}
	if up {
		ev.flags |= keyUp
	}
	return ev
}

type press struct {
	sym  uint32
	down bool
}

func TestKeyboardPlans(t *testing.T) {
	for _, tc := range []struct {
		name    string
		presses []press
		want    []keyEvent
		dropped uint64
	}{
		{"letter on the layout is its key", []press{{'a', true}, {'a', false}}, []keyEvent{vkDown('A', false), vkUp('A', false)}, 0},
		{"shifted letter with Shift held is its key",
			[]press{{0xffe1, true}, {'A', true}, {'A', false}, {0xffe1, false}},
			[]keyEvent{vkDown(vkShiftL, false), vkDown('A', false), vkUp('A', false), vkUp(vkShiftL, false)}, 0},
		{"shifted character without Shift held is sent as itself",
			[]press{{'@', true}, {'@', false}}, []keyEvent{uni('@', false), uni('@', true)}, 0},
		{"a character the layout lacks is sent as itself",
			[]press{{0xe9, true}, {0xe9, false}}, []keyEvent{uni(0xe9, false), uni(0xe9, true)}, 0},
		{"a Unicode keysym outside the BMP becomes a surrogate pair",
			[]press{{0x0101f600, true}, {0x0101f600, false}},
			[]keyEvent{uni(0xd83d, false), uni(0xde00, false), uni(0xde00, true), uni(0xd83d, true)}, 0},
		{"euro sign, the legacy keysym", []press{{0x20ac, true}}, []keyEvent{uni(0x20ac, false)}, 0},
		{"Ctrl+C is the C key", []press{{0xffe3, true}, {'c', true}},
			[]keyEvent{vkDown(vkControlL, false), vkDown('C', false)}, 0},
		{"Ctrl+Shift+C is the C key", []press{{0xffe3, true}, {0xffe1, true}, {'C', true}},
			[]keyEvent{vkDown(vkControlL, false), vkDown(vkShiftL, false), vkDown('C', false)}, 0},
		{"AltGr is not sent, its character is", []press{{0xfe03, true}, {'@', true}, {'@', false}, {0xfe03, false}},
			[]keyEvent{uni('@', false), uni('@', true)}, 0},
		{"extended keys say so", []press{{0xff51, true}, {0xffe4, true}, {0xff8d, true}},
			[]keyEvent{vkDown(0x25, true), vkDown(vkControlR, true), vkDown(0x0d, true)}, 0},
		{"F1 and F24", []press{{0xffbe, true}, {0xffd5, true}}, []keyEvent{vkDown(0x70, false), vkDown(0x87, false)}, 0},
		{"auto-repeat sends the down again", []press{{0xff08, true}, {0xff08, true}, {0xff08, false}},
			[]keyEvent{vkDown(0x08, false), vkDown(0x08, false), vkUp(0x08, false)}, 0},
		{"release keeps the key of the press", []press{{'@', true}, {0xffe1, true}, {'@', false}},
			[]keyEvent{uni('@', false), vkDown(vkShiftL, false), uni('@', true)}, 0},
		{"release of a key not held is ignored", []press{{'x', false}}, nil, 0},
		{"unmapped keysyms are dropped and counted", []press{{0xffbd, true}, {0xffbd, false}, {0xfe50, true}, {0x0, true}}, nil, 3},
		{"control characters type nothing", []press{{0x01000007, true}}, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			k := newKeyboard(usLayout{}, rec.send)
			for _, p := range tc.presses {
				k.key(p.sym, p.down)
			}
			if !reflect.DeepEqual(rec.evs, tc.want) {
				t.Errorf("events:\n got %+v\nwant %+v", rec.evs, tc.want)
			}
			if got := k.dropped.Load(); got != tc.dropped {
				t.Errorf("dropped %d, want %d", got, tc.dropped)
			}
		})
	}
}

func TestKeyboardDropSaysWhy(t *testing.T) {
	var rec recorder
	k := newKeyboard(usLayout{}, rec.send)
	if err := k.key(0xffbd, true); err == nil {
		t.Fatal("KP_Equal has no Windows key, but key returned nil")
	}
}

func TestReleaseAll(t *testing.T) {
	var rec recorder
	k := newKeyboard(usLayout{}, rec.send)
	k.key(0xffe3, true)
	k.key(0xe9, true)
	k.key('a', true)
	rec.evs = nil
	if err := k.releaseAll(); err != nil {
		t.Fatal(err)
	}
	want := []keyEvent{vkUp('A', false), uni(0xe9, true), vkUp(vkControlL, false)}
	if !reflect.DeepEqual(rec.evs, want) {
		t.Errorf("releaseAll sent\n %+v\nwant %+v", rec.evs, want)
	}
	rec.evs = nil
	k.releaseAll()
	if len(rec.evs) != 0 {
		t.Errorf("second releaseAll sent %+v", rec.evs)
	}
}

func TestKeysymRune(t *testing.T) {
	for sym, want := range map[uint32]rune{'a': 'a', 0xe9: 'é', 0x010020ac: '€', 0x20ac: '€', 0x01000416: 'Ж'} {
		if r, ok := keysymRune(sym); !ok || r != want {
			t.Errorf("keysymRune(%#x) = %q, %v; want %q", sym, r, ok, want)
		}
	}
	for _, sym := range []uint32{0x1f, 0x7f, 0x9f, 0x0100d800, 0x01110000, 0xff0d} {
		if r, ok := keysymRune(sym); ok {
			t.Errorf("keysymRune(%#x) = %q, want none", sym, r)
		}
	}
}

// FuzzKeyboard: any run of keysyms leaves nothing held after releaseAll, and every up matches
// a down sent before it. Two held keysyms can send the same event (two characters outside the
// BMP share a high surrogate; Ctrl+a and Ctrl+A share the key A), so each up uses one down.
func FuzzKeyboard(f *testing.F) {
	f.Add([]byte{0xe1, 0xff, 0, 0, 1, 'a', 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var rec recorder
		k := newKeyboard(usLayout{}, rec.send)
		for len(b) >= 5 {
			sym := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
			k.key(sym, b[4]&1 == 1)
			b = b[5:]
		}
		k.releaseAll()
		downs := map[keyEvent]int{}
		for _, ev := range rec.evs {
			base := ev
			base.flags &^= keyUp
			if ev.flags&keyUp == 0 {
				downs[base]++
			} else if downs[base] == 0 {
				t.Fatalf("up %+v without a down", ev)
			} else {
				downs[base]--
			}
		}
		if len(k.held) != 0 {
			t.Fatalf("held after releaseAll: %v", k.held)
		}
	})
}
