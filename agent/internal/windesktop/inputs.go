package windesktop

// INPUT as SendInput reads it on 64-bit Windows: a type, then a union whose largest member is
// MOUSEINPUT, 40 bytes in all. The two views below are that one layout; inputs_test.go checks
// their sizes and offsets against WinUser.h.
const (
	inputMouse    = 0
	inputKeyboard = 1
)

type mouseInput struct {
	typ       uint32
	_         uint32
	dx, dy    int32
	mouseData int32
	flags     uint32
	time      uint32
	extraInfo uintptr
}

type keyboardInput struct {
	typ       uint32
	_         uint32
	vk, scan  uint16
	flags     uint32
	time      uint32
	extraInfo uintptr
	_         [8]byte // the rest of the union
}

func (e mouseEvent) input() mouseInput {
	return mouseInput{typ: inputMouse, dx: e.dx, dy: e.dy, mouseData: e.mouseData, flags: e.flags}
}

func (e keyEvent) input() keyboardInput {
	return keyboardInput{typ: inputKeyboard, vk: e.vk, scan: e.scan, flags: e.flags}
}
