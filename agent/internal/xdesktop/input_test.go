package xdesktop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// typeText sends each rune as its keysym (Latin-1 as is, others as Unicode keysyms, '\n' as
// Return), down then up, the way a viewer does.
func typeText(t *testing.T, in rdp.Injector, s string) {
	t.Helper()
	for _, r := range s {
		sym := uint32(r)
		switch {
		case r == '\n':
			sym = 0xff0d
		case r > 0xff:
			sym = 0x01000000 | uint32(r)
		}
		if err := in.Key(sym, true); err != nil {
			t.Fatalf("key %#x down: %v", sym, err)
		}
		if err := in.Key(sym, false); err != nil {
			t.Fatalf("key %#x up: %v", sym, err)
		}
	}
}

// ctrlD ends cat's input.
func ctrlD(t *testing.T, in rdp.Injector) {
	t.Helper()
	for _, k := range []struct {
		sym  uint32
		down bool
	}{{keysymControlL, true}, {'d', true}, {'d', false}, {keysymControlL, false}} {
		if err := in.Key(k.sym, k.down); err != nil {
			t.Fatal(err)
		}
	}
}

// xtermCat runs `cat > file` in an xterm at the top left of the display and waits until its
// window is on screen. It returns the file and a channel closed when xterm exits.
func xtermCat(t *testing.T, display string) (string, <-chan struct{}) {
	t.Helper()
	path, err := exec.LookPath("xterm")
	if err != nil {
		t.Fatalf("xterm is not installed (scripts/deps.sh installs it): %v", err)
	}
	c := newClient(t, display)
	xproto.ChangeWindowAttributesChecked(c.conn, c.screen.Root, xproto.CwEventMask, []uint32{xproto.EventMaskSubstructureNotify}).Check()

	file := filepath.Join(t.TempDir(), "typed.txt")
	cmd := exec.Command(path, "-display", display, "-u8", "-geometry", "80x24+0+0", "-e", "sh", "-c", `exec cat > "$0"`, file)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	c.wait(func(ev xgb.Event) bool { _, ok := ev.(xproto.MapNotifyEvent); return ok })
	return file, done
}

// typeIntoXterm types text into a real xterm running cat and returns what cat wrote.
func typeIntoXterm(t *testing.T, display string, in rdp.Injector, text string) string {
	t.Helper()
	file, done := xtermCat(t, display)
	// No window manager: the keyboard follows the pointer, so put it over the xterm.
	if err := in.Pointer(100, 100, 0); err != nil {
		t.Fatal(err)
	}
	typeText(t, in, text)
	ctrlD(t, in)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("xterm did not exit after Ctrl+D")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// typed is what the injector tests type: lower and upper case, shifted punctuation, Latin-1
// letters that are on no key of the US map, a Unicode keysym, and Return.
const typed = "Hello, World! ~{|}_+:\"<>?@#$%^&*()\nabc xyz ABC XYZ 0123456789 -=[]\\;',./`\nçà é ü €\n"

func TestXTESTTypesIntoXterm(t *testing.T) {
	d := openTest(t, "-screen", "0", "1024x768x24")
	if got := typeIntoXterm(t, d.Display(), d, typed); got != typed {
		t.Fatalf("xterm got %q\nwant       %q", got, typed)
	}
}

// recorder is a window that records pointer events.
func recorder(t *testing.T, display string, x, y, w, h int) (*client, xproto.Window) {
	c := newClient(t, display)
	win := c.window(x, y, w, h, xproto.EventMaskButtonPress|xproto.EventMaskButtonRelease|xproto.EventMaskKeyPress|xproto.EventMaskKeyRelease)
	return c, win
}

func buttonEvent(c *client, win xproto.Window) xproto.ButtonPressEvent {
	c.t.Helper()
	return c.wait(func(ev xgb.Event) bool {
		e, ok := ev.(xproto.ButtonPressEvent)
		return ok && e.Event == win
	}).(xproto.ButtonPressEvent)
}

func testPointer(t *testing.T, display string, in rdp.Injector) {
	c, win := recorder(t, display, 300, 200, 400, 300)
	for _, tc := range []struct {
		x, y   int
		mask   uint8
		button byte
	}{{350, 260, 1, 1}, {699, 499, 4, 3}, {300, 200, 2, 2}} {
		if err := in.Pointer(tc.x, tc.y, tc.mask); err != nil {
			t.Fatal(err)
		}
		ev := buttonEvent(c, win)
		if ev.Detail != xproto.Button(tc.button) || int(ev.RootX) != tc.x || int(ev.RootY) != tc.y ||
			int(ev.EventX) != tc.x-300 || int(ev.EventY) != tc.y-200 {
			t.Errorf("mask %d at (%d,%d): got button %d at root (%d,%d) window (%d,%d)",
				tc.mask, tc.x, tc.y, ev.Detail, ev.RootX, ev.RootY, ev.EventX, ev.EventY)
		}
		if err := in.Pointer(tc.x, tc.y, 0); err != nil {
			t.Fatal(err)
		}
		c.wait(func(ev xgb.Event) bool {
			e, ok := ev.(xproto.ButtonReleaseEvent)
			return ok && e.Detail == xproto.Button(tc.button)
		})
	}

	for _, tc := range []struct {
		dx, dy int
		button byte
	}{{0, 1, 5}, {0, -1, 4}, {1, 0, 7}, {-1, 0, 6}} {
		if err := in.Scroll(tc.dx, tc.dy); err != nil {
			t.Fatal(err)
		}
		if ev := buttonEvent(c, win); ev.Detail != xproto.Button(tc.button) {
			t.Errorf("scroll (%d,%d): button %d, want %d", tc.dx, tc.dy, ev.Detail, tc.button)
		}
	}
	// Three notches are three clicks.
	in.Scroll(0, 3)
	for range 3 {
		if ev := buttonEvent(c, win); ev.Detail != 5 {
			t.Errorf("scroll 3 down: button %d", ev.Detail)
		}
	}
}

func TestXTESTPointer(t *testing.T) {
	d := openTest(t, "-screen", "0", "1024x768x24")
	testPointer(t, d.Display(), d)
}

func TestCursorFollowsPointer(t *testing.T) {
	d := openTest(t, "-screen", "0", "1024x768x24")
	if err := d.Pointer(123, 456, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		x, y, shape, hx, hy, serial, err := d.Cursor()
		if err != nil {
			t.Fatal(err)
		}
		if x == 123 && y == 456 {
			if shape == nil || shape.Rect.Empty() || hx >= shape.Rect.Dx() || hy >= shape.Rect.Dy() || serial == 0 {
				t.Fatalf("cursor shape %v hotspot (%d,%d) serial %d", shape.Rect, hx, hy, serial)
			}
			return
		}
		select { // the XTEST motion is asynchronous; Cursor's round trip paces this loop
		case <-ctx.Done():
			t.Fatalf("cursor at (%d,%d), want (123,456)", x, y)
		default:
		}
	}
}

func TestReleaseInputLiftsHeldKeys(t *testing.T) {
	d := openTest(t, "-screen", "0", "640x480x24")
	c, win := recorder(t, d.Display(), 0, 0, 640, 480)
	d.Pointer(10, 10, 0)
	d.Key(keysymControlL, true)
	d.Pointer(10, 10, 1)
	c.wait(func(ev xgb.Event) bool { e, ok := ev.(xproto.KeyPressEvent); return ok && e.Event == win })
	d.ReleaseInput()
	c.wait(func(ev xgb.Event) bool { _, ok := ev.(xproto.KeyReleaseEvent); return ok })
	c.wait(func(ev xgb.Event) bool { _, ok := ev.(xproto.ButtonReleaseEvent); return ok })
}

// namedKeysyms are the function, modifier and keypad keysyms of the robotgo table and F1–F24.
func namedKeysyms() []uint32 {
	var syms []uint32
	for sym := range robotNamed {
		syms = append(syms, sym)
	}
	for sym := uint32(0xffbe); sym <= 0xffd5; sym++ {
		syms = append(syms, sym)
	}
	slices.Sort(syms)
	return syms
}

// checkNamedKeys presses each keysym through in and checks that the key X delivers carries that
// keysym (at any level: keypad digits sit under NumLock) in the mapping current at that moment.
// alias gives the keysym expected instead, where the injector sends a stand-in. With onlyMapped,
// keysyms on no key are left out (robotgo sends keycode 0 for them, and Xlib's default error
// handler then exits the process).
func checkNamedKeys(t *testing.T, display string, in rdp.Injector, syms []uint32, alias map[uint32]uint32, onlyMapped bool) {
	t.Helper()
	c, win := recorder(t, display, 0, 0, 640, 480)
	if err := in.Pointer(10, 10, 0); err != nil { // no window manager: focus follows the pointer
		t.Fatal(err)
	}
	mapping := func(code xproto.Keycode, n int) []xproto.Keysym {
		km, err := xproto.GetKeyboardMapping(c.conn, code, byte(n)).Reply()
		if err != nil {
			t.Fatal(err)
		}
		return km.Keysyms
	}
	setup := xproto.Setup(c.conn)
	all := mapping(setup.MinKeycode, int(setup.MaxKeycode)-int(setup.MinKeycode)+1)
	for _, sym := range syms {
		if onlyMapped && !slices.Contains(all, xproto.Keysym(sym)) {
			t.Logf("keysym %#x is on no key of Xvfb's map: left out", sym)
			continue
		}
		if err := in.Key(sym, true); err != nil {
			t.Errorf("keysym %#x: %v", sym, err)
			continue
		}
		in.Key(sym, false)
		want := sym
		if a, ok := alias[sym]; ok {
			want = a
		}
		for { // skip the Shift an injector adds around a shifted keysym
			ev := c.wait(func(ev xgb.Event) bool { e, ok := ev.(xproto.KeyPressEvent); return ok && e.Event == win }).(xproto.KeyPressEvent)
			at := mapping(ev.Detail, 1)
			if !isShift(want) && (slices.Contains(at, keysymShiftL) || slices.Contains(at, keysymShiftR)) {
				continue
			}
			if !slices.Contains(at, xproto.Keysym(want)) {
				t.Errorf("keysym %#x: X delivered keycode %d with keysyms %#x", sym, ev.Detail, at)
			}
			break
		}
	}
}

func TestXTESTNamedKeys(t *testing.T) {
	d := openTest(t, "-screen", "0", "640x480x24")
	// Beyond the table: AltGr, and keysyms on no key of Xvfb's map (F13–F24, media keys).
	syms := append(namedKeysyms(), keysymAltGr, 0x1008ff13, 0x1008ff11)
	checkNamedKeys(t, d.Display(), d, syms, nil, false)
}
