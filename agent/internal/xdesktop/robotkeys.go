package xdesktop

import "fmt"

// robotgo names keys with its own lowercase words ("enter", "lshift") or a single unshifted
// character. An unknown name is not an error there: it silently sends something else, and a
// capitalised name adds Shift. So keysyms are translated by this exact table, and a keysym it
// does not list is refused rather than guessed. Printable keysyms are given as the character on
// the unshifted key of a US layout plus a Shift flag, because robotgo resolves characters
// through the US map.

// robotNamed maps function and modifier keysyms to robotgo key names.
var robotNamed = map[uint32]string{
	0xff08: "backspace", 0xff09: "tab", 0xff0d: "enter", 0xff1b: "esc", 0xffff: "delete",
	0xff50: "home", 0xff51: "left", 0xff52: "up", 0xff53: "right", 0xff54: "down",
	0xff55: "pageup", 0xff56: "pagedown", 0xff57: "end", 0xff63: "insert", 0xff67: "menu",
	0xff61: "printscreen", 0xffe5: "capslock", 0xff7f: "num_lock",
	keysymShiftL: "lshift", keysymShiftR: "rshift",
	keysymControlL: "lctrl", keysymControlR: "rctrl",
	keysymAltL: "lalt", keysymAltR: "ralt",
	keysymMetaL: "lcmd", keysymMetaR: "rcmd",
	keysymSuperL: "lcmd", keysymSuperR: "rcmd",
	0xffb0: "num0", 0xffb1: "num1", 0xffb2: "num2", 0xffb3: "num3", 0xffb4: "num4",
	0xffb5: "num5", 0xffb6: "num6", 0xffb7: "num7", 0xffb8: "num8", 0xffb9: "num9",
	0xffae: "num.", 0xffab: "num+", 0xffad: "num-", 0xffaa: "num*", 0xffaf: "num/",
	0xff8d: "num_enter", 0xffbd: "num_equal",
	0x20: "space",
}

// robotShifted maps the shifted characters of a US layout to their unshifted key.
var robotShifted = map[rune]rune{
	'!': '1', '@': '2', '#': '3', '$': '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
	'_': '-', '+': '=', '{': '[', '}': ']', '|': '\\', ':': ';', '"': '\'', '<': ',', '>': '.', '?': '/', '~': '`',
}

// robotKey returns robotgo's name for the key that types keysym and whether Shift must be held.
func robotKey(keysym uint32) (name string, shift bool, err error) {
	if n, ok := robotNamed[keysym]; ok {
		return n, false, nil
	}
	if keysym >= 0xffbe && keysym <= 0xffd5 { // F1–F24
		return fmt.Sprintf("f%d", keysym-0xffbe+1), false, nil
	}
	r := rune(keysym)
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r < 0x7f && robotUnshifted(r):
		return string(r), false, nil
	case r >= 'A' && r <= 'Z':
		return string(r + 'a' - 'A'), true, nil
	}
	if base, ok := robotShifted[r]; ok {
		return string(base), true, nil
	}
	return "", false, fmt.Errorf("xdesktop: keysym %#x has no robotgo key name", keysym)
}

func robotUnshifted(r rune) bool {
	for _, c := range "-=[]\\;',./`" {
		if r == c {
			return true
		}
	}
	return false
}
