//go:build cgo && linux && robotgo

package xdesktop

import (
	"strings"
	"testing"
)

// These run robotgo on Linux for the XTEST-or-robotgo decision:
//
//	go test -tags robotgo -run Robot ./agent/internal/xdesktop

func TestRobotTypesIntoXterm(t *testing.T) {
	d := openTest(t, "-screen", "0", "1024x768x24")
	in, err := NewRobotInjector(d.Display())
	if err != nil {
		t.Fatal(err)
	}
	// Before Xvfb stops: robotgo's Xlib connection would otherwise exit the test binary with
	// "XIO: fatal IO error" when the server goes, as it does to an agent whose X session ends.
	t.Cleanup(func() { in.Close() })
	// robotgo has no key for é, ü, € on a US map: type only the ASCII lines, and check that
	// the others are refused instead of sent as something else.
	ascii := typed[:strings.LastIndex(typed[:len(typed)-1], "\n")+1]
	if got := typeIntoXterm(t, d.Display(), in, ascii); got != ascii {
		t.Fatalf("xterm got %q\nwant       %q", got, ascii)
	}
	for _, sym := range []uint32{0xe9, 0x10020ac} {
		if err := in.Key(sym, true); err == nil {
			t.Errorf("keysym %#x was accepted", sym)
		}
	}
}

func TestRobotPointer(t *testing.T) {
	d := openTest(t, "-screen", "0", "1024x768x24")
	in, err := NewRobotInjector(d.Display())
	if err != nil {
		t.Fatal(err)
	}
	// Before Xvfb stops: robotgo's Xlib connection would otherwise exit the test binary with
	// "XIO: fatal IO error" when the server goes, as it does to an agent whose X session ends.
	t.Cleanup(func() { in.Close() })
	testPointer(t, d.Display(), in)
}

// robotX11Broken are the table's names that robotgo v0.110.8 gets wrong on X11 only: its
// keycode.h gives raw keycodes where keysyms belong (num* sends '7', num_enter sends '`') and
// has no X11 value for "menu". They are right for Windows and macOS, which is what the robotgo
// injector is for; on Linux the XTEST injector types them correctly.
var robotX11Broken = map[uint32]bool{
	0xff67: true, 0xff8d: true, 0xffaa: true, 0xffab: true, 0xffad: true, 0xffaf: true, 0xffbd: true,
}

// robotX11Alias: robotgo's "lcmd"/"rcmd" are the Super keys on X11.
var robotX11Alias = map[uint32]uint32{keysymMetaL: keysymSuperL, keysymMetaR: keysymSuperR}

// TestRobotNamedKeys presses every named key of the table through robotgo and checks which
// keysym the X server delivers, so a name that robotgo maps elsewhere shows up here.
func TestRobotNamedKeys(t *testing.T) {
	d := openTest(t, "-screen", "0", "640x480x24")
	in, err := NewRobotInjector(d.Display())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	var syms []uint32
	for _, sym := range namedKeysyms() {
		if !robotX11Broken[sym] {
			syms = append(syms, sym)
		}
	}
	checkNamedKeys(t, d.Display(), in, syms, robotX11Alias, true)
}
