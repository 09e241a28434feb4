package xdesktop

import (
	"strings"
	"testing"
)

func TestRobotKeyTable(t *testing.T) {
	for _, tc := range []struct {
		keysym uint32
		name   string
		shift  bool
	}{
		{'a', "a", false}, {'A', "a", true}, {'z', "z", false}, {'Z', "z", true},
		{'0', "0", false}, {'!', "1", true}, {'@', "2", true}, {')', "0", true},
		{'-', "-", false}, {'_', "-", true}, {'\\', "\\", false}, {'|', "\\", true},
		{'`', "`", false}, {'~', "`", true}, {'\'', "'", false}, {'"', "'", true},
		{' ', "space", false},
		{0xff0d, "enter", false}, {0xff08, "backspace", false}, {0xff09, "tab", false},
		{0xff1b, "esc", false}, {0xffff, "delete", false}, {0xff52, "up", false},
		{0xffbe, "f1", false}, {0xffc9, "f12", false}, {0xffd5, "f24", false},
		{0xffe1, "lshift", false}, {0xffe2, "rshift", false}, {0xffe3, "lctrl", false},
		{0xffe9, "lalt", false}, {0xffeb, "lcmd", false}, {0xffb5, "num5", false},
		{0xff8d, "num_enter", false},
	} {
		name, shift, err := robotKey(tc.keysym)
		if err != nil || name != tc.name || shift != tc.shift {
			t.Errorf("robotKey(%#x) = %q, %v, %v; want %q, %v", tc.keysym, name, shift, err, tc.name, tc.shift)
		}
	}
}

// Every name is one robotgo knows: a lowercase word or a single unshifted character, never a
// capital (robotgo would add Shift) and never a shifted character (robotgo would add Shift too).
func TestRobotKeyNamesAreExact(t *testing.T) {
	for sym := uint32(0); sym <= 0xffff; sym++ {
		name, _, err := robotKey(sym)
		if err != nil {
			continue
		}
		if name != strings.ToLower(name) {
			t.Errorf("keysym %#x: name %q is not lowercase", sym, name)
		}
		if len(name) == 1 && strings.ContainsRune("~!@#$%^&*()_+{}|:\"<>?", rune(name[0])) {
			t.Errorf("keysym %#x: name %q is a shifted character", sym, name)
		}
	}
}

func TestRobotKeyRefusesUnknown(t *testing.T) {
	for _, sym := range []uint32{0xe9, 0x10020ac, 0xfe03, 0x1008ff13, 0} {
		if name, _, err := robotKey(sym); err == nil {
			t.Errorf("robotKey(%#x) = %q, want an error", sym, name)
		}
	}
}
