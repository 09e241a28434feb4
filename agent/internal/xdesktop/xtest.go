package xdesktop

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// ErrNoXTEST is returned by the input methods when the X server has no XTEST extension.
var ErrNoXTEST = errors.New("xdesktop: input: the X server has no XTEST extension")

// keyboard injects keys and pointer events with XTEST. The viewer sends X11 keysyms; they are
// found in the server's own keyboard mapping, so what lands is what the keysym says whatever the
// layout. A keysym that needs Shift gets Shift pressed around it unless Shift is already held;
// a keysym that is on no key (é on a US map, any Unicode keysym) is put on a spare keycode with
// ChangeKeyboardMapping first, as xdotool does.
type keyboard struct {
	conn *xgb.Conn
	root xproto.Window
	log  *slog.Logger
	err  error

	mu       sync.Mutex
	keys     map[uint32]keyPos // keysym → key, nil until first used or after MappingNotify
	spare    []xproto.Keycode  // keycodes free for remapping, found once
	nextSp   int
	perCode  int
	remapped map[xproto.Keycode]uint32 // spare keycode → keysym put there
	pressed  map[uint32]xproto.Keycode // keysyms held down → keycode pressed
	buttons  uint8
}

func newKeyboard(conn *xgb.Conn, root xproto.Window, log *slog.Logger) *keyboard {
	k := &keyboard{conn: conn, root: root, log: log,
		remapped: map[xproto.Keycode]uint32{}, pressed: map[uint32]xproto.Keycode{}}
	if err := xtest.Init(conn); err != nil {
		k.err = fmt.Errorf("%w: %v", ErrNoXTEST, err)
		log.Warn("input injection unavailable", "err", err)
	}
	return k
}

// X core event types, as XTEST FakeInput takes them.
const (
	fakeKeyPress      = xproto.KeyPress
	fakeKeyRelease    = xproto.KeyRelease
	fakeButtonPress   = xproto.ButtonPress
	fakeButtonRelease = xproto.ButtonRelease
	fakeMotion        = xproto.MotionNotify
)

func (k *keyboard) fake(typ byte, detail byte, x, y int16) {
	xtest.FakeInput(k.conn, typ, detail, 0, k.root, x, y, 0)
}

// Key presses or releases the key that types keysym.
func (d *Desktop) Key(keysym uint32, down bool) error { return d.keys.key(keysym, down) }

// SecureAttentionKeys is true: X11 has no secure attention sequence, and Ctrl+Alt+Del reaches the
// desktop (a session's log-out dialog, say) as the person's own keys would.
func (d *Desktop) SecureAttentionKeys() bool { return true }

func (k *keyboard) key(sym uint32, down bool) error {
	if k.err != nil {
		return k.err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !down {
		code, ok := k.pressed[sym]
		if !ok {
			return nil // never pressed (or released already): nothing to undo
		}
		delete(k.pressed, sym)
		k.fake(fakeKeyRelease, byte(code), 0, 0)
		return nil
	}
	pos, err := k.find(sym)
	if err != nil {
		return err
	}
	addShift := pos.level == 1 && !isModifier(sym) && !k.shiftHeld()
	shift := xproto.Keycode(0)
	if addShift {
		sp, err := k.find(keysymShiftL)
		if err != nil {
			return err
		}
		shift = sp.code
		k.fake(fakeKeyPress, byte(shift), 0, 0)
	}
	k.fake(fakeKeyPress, byte(pos.code), 0, 0)
	if addShift {
		k.fake(fakeKeyRelease, byte(shift), 0, 0)
	}
	k.pressed[sym] = pos.code
	return nil
}

func (k *keyboard) shiftHeld() bool {
	_, l := k.pressed[keysymShiftL]
	_, r := k.pressed[keysymShiftR]
	return l || r
}

// find returns the key for sym, remapping a spare keycode when no key has it.
func (k *keyboard) find(sym uint32) (keyPos, error) {
	if k.keys == nil {
		if err := k.load(); err != nil {
			return keyPos{}, err
		}
	}
	if pos, ok := k.keys[sym]; ok {
		return pos, nil
	}
	return k.remap(sym)
}

func (k *keyboard) load() error {
	setup := xproto.Setup(k.conn)
	n := int(setup.MaxKeycode) - int(setup.MinKeycode) + 1
	reply, err := xproto.GetKeyboardMapping(k.conn, setup.MinKeycode, byte(n)).Reply()
	if err != nil {
		return fmt.Errorf("xdesktop: keyboard mapping: %w", err)
	}
	m := keymap{min: setup.MinKeycode, perCode: int(reply.KeysymsPerKeycode), syms: reply.Keysyms}
	k.keys = m.lookup()
	k.perCode = m.perCode
	if k.spare == nil {
		k.spare = m.spare()
	}
	return nil
}

// remap puts sym on a spare keycode (both levels, so Shift does not matter), taking the spare
// keycodes in turn and skipping any that is held down.
func (k *keyboard) remap(sym uint32) (keyPos, error) {
	for range k.spare {
		code := k.spare[k.nextSp%len(k.spare)]
		k.nextSp++
		if k.held(code) {
			continue
		}
		syms := make([]xproto.Keysym, k.perCode)
		syms[0] = xproto.Keysym(sym)
		if k.perCode > 1 {
			syms[1] = xproto.Keysym(sym)
		}
		if err := xproto.ChangeKeyboardMappingChecked(k.conn, 1, code, byte(k.perCode), syms).Check(); err != nil {
			return keyPos{}, fmt.Errorf("xdesktop: remap keycode %d to keysym %#x: %w", code, sym, err)
		}
		if old, ok := k.remapped[code]; ok {
			delete(k.keys, old)
		}
		k.remapped[code] = sym
		pos := keyPos{code: code}
		k.keys[sym] = pos
		return pos, nil
	}
	return keyPos{}, fmt.Errorf("xdesktop: keysym %#x is on no key and no spare keycode is free", sym)
}

func (k *keyboard) held(code xproto.Keycode) bool {
	for _, c := range k.pressed {
		if c == code {
			return true
		}
	}
	return false
}

// mappingChanged drops the cached mapping when another client changed the keyboard; changes
// this package made to its spare keycodes are already known.
func (k *keyboard) mappingChanged(ev xproto.MappingNotifyEvent) {
	if ev.Request != xproto.MappingKeyboard {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if ev.Count == 1 && slices.Contains(k.spare, ev.FirstKeycode) {
		return
	}
	k.keys = nil
}

// Pointer moves the pointer to (x, y) and presses or releases buttons whose bit in the mask
// changed: bits 0–2 are buttons 1–3 (left, middle, right), bits 3–4 are buttons 8–9 (back,
// forward). The wheel buttons 4–7 are Scroll's.
func (d *Desktop) Pointer(x, y int, buttons uint8) error {
	k := d.keys
	if k.err != nil {
		return k.err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fake(fakeMotion, 0, int16(x), int16(y))
	for bit := range 5 {
		was, now := k.buttons&(1<<bit) != 0, buttons&(1<<bit) != 0
		if was == now {
			continue
		}
		typ := byte(fakeButtonRelease)
		if now {
			typ = fakeButtonPress
		}
		k.fake(typ, maskButton(bit), 0, 0)
	}
	k.buttons = buttons & 0x1f
	return nil
}

func maskButton(bit int) byte {
	if bit < 3 {
		return byte(bit + 1)
	}
	return byte(bit + 5)
}

// Scroll clicks the wheel buttons: 4 up, 5 down, 6 left, 7 right, once per notch.
func (d *Desktop) Scroll(dx, dy int) error {
	k := d.keys
	if k.err != nil {
		return k.err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	click := func(button byte, n int) {
		for range n {
			k.fake(fakeButtonPress, button, 0, 0)
			k.fake(fakeButtonRelease, button, 0, 0)
		}
	}
	click(5, max(dy, 0))
	click(4, max(-dy, 0))
	click(7, max(dx, 0))
	click(6, max(-dx, 0))
	return nil
}

// ReleaseInput lets go of every key and button this desktop holds down; call it when a session
// ends.
func (d *Desktop) ReleaseInput() { d.keys.releaseAll() }

// releaseAll lets go of every key and button still held, so a dropped session does not leave
// Ctrl stuck on the person's desktop.
func (k *keyboard) releaseAll() {
	if k.err != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for sym, code := range k.pressed {
		k.fake(fakeKeyRelease, byte(code), 0, 0)
		delete(k.pressed, sym)
	}
	for bit := range 5 {
		if k.buttons&(1<<bit) != 0 {
			k.fake(fakeButtonRelease, maskButton(bit), 0, 0)
		}
	}
	k.buttons = 0
	xproto.GetInputFocus(k.conn).Reply() // flush before the connection closes
}
