package windesktop

import (
	"fmt"
	"unicode"
	"unsafe"
)

// SecureAttentionKeys is false: synthesized Ctrl+Alt+Del never reaches Winlogon; only a
// service's SendSAS could, and this agent runs as the person.
func (d *Desktop) SecureAttentionKeys() bool { return false }

// Key presses or releases the key of an X11 keysym.
func (d *Desktop) Key(keysym uint32, down bool) error { return d.keys.key(keysym, down) }

// Dropped counts the keysyms that had no key on Windows.
func (d *Desktop) Dropped() uint64 { return d.keys.dropped.Load() }

// Pointer moves the pointer to (x, y) of the virtual screen and sets the buttons.
func (d *Desktop) Pointer(x, y int, buttons uint8) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := sendMouse(pointerEvents(x, y, virtualScreen(), d.buttons, buttons))
	if err == nil {
		d.buttons = buttons
	}
	return err
}

// Scroll turns the wheel, vertically and horizontally.
func (d *Desktop) Scroll(dx, dy int) error { return sendMouse(scrollEvents(dx, dy)) }

// ReleaseInput lets go of every key and button a session left held.
func (d *Desktop) ReleaseInput() {
	if err := d.keys.releaseAll(); err != nil {
		d.log.Warn("release keys", "err", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.buttons != 0 {
		evs := pointerEvents(0, 0, virtualScreen(), d.buttons, 0)[1:] // the ups, not the move
		if err := sendMouse(evs); err != nil {
			d.log.Warn("release buttons", "err", err)
		}
		d.buttons = 0
	}
}

func sendKeys(evs []keyEvent) error {
	in := make([]keyboardInput, len(evs))
	for i, e := range evs {
		in[i] = e.input()
	}
	if len(in) == 0 {
		return nil
	}
	return sendInput(len(in), unsafe.Pointer(&in[0]), unsafe.Sizeof(in[0]))
}

func sendMouse(evs []mouseEvent) error {
	in := make([]mouseInput, len(evs))
	for i, e := range evs {
		in[i] = e.input()
	}
	if len(in) == 0 {
		return nil
	}
	return sendInput(len(in), unsafe.Pointer(&in[0]), unsafe.Sizeof(in[0]))
}

func sendInput(n int, p unsafe.Pointer, size uintptr) error {
	sent, _, err := procSendInput.Call(uintptr(n), uintptr(p), size)
	if int(sent) != n {
		// UIPI: input to a window of a higher integrity level (an elevated program) is blocked.
		return fmt.Errorf("windesktop: SendInput took %d of %d events (a window of an elevated program refuses input from this agent): %w", sent, n, err)
	}
	return nil
}

// systemLayout is the keyboard layout of the foreground thread, as VkKeyScanW sees it.
type systemLayout struct{}

func (systemLayout) charKey(r rune) (uint16, bool, bool) {
	if r > 0xffff {
		return 0, false, false
	}
	v, _, _ := procVkKeyScanW.Call(uintptr(r))
	if int16(v) == -1 {
		return 0, false, false
	}
	vk, mods := uint16(v&0xff), uint8(v>>8)
	if mods&^1 != 0 {
		return 0, false, false // needs Ctrl or Alt (AltGr), or a kana state
	}
	const mapVKToChar = 2
	if c, _, _ := procMapVirtualKeyW.Call(uintptr(vk), mapVKToChar); c&0x80000000 != 0 {
		return 0, false, false // a dead key: it would change the next character
	}
	if unicode.IsLetter(r) && unicode.ToUpper(r) != unicode.ToLower(r) && capsLock() {
		return 0, false, false // Caps Lock would turn the key into the other case
	}
	return vk, mods&1 != 0, true
}

func (systemLayout) scan(vk uint16) uint16 {
	const mapVKToVSC = 0
	s, _, _ := procMapVirtualKeyW.Call(uintptr(vk), mapVKToVSC)
	return uint16(s)
}

var procGetKeyState = user32.NewProc("GetKeyState")

func capsLock() bool {
	const vkCapital = 0x14
	s, _, _ := procGetKeyState.Call(vkCapital)
	return s&1 != 0
}
