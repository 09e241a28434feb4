package windesktop

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

const cfUnicodeText = 13

// openClipboard opens the clipboard for this OS thread, retrying briefly while another program
// holds it (clipboard managers do, for milliseconds). The caller has locked the thread.
func openClipboard() error {
	var err error
	for range 10 {
		var ok uintptr
		if ok, _, err = procOpenClipboard.Call(0); ok != 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("windesktop: OpenClipboard: %w", err)
}

// ReadClipboard returns the clipboard's text, "" when it holds none.
func (d *Desktop) ReadClipboard() (string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := openClipboard(); err != nil {
		return "", err
	}
	defer procCloseClipboard.Call()
	h, _, _ := procGetClipboardData.Call(cfUnicodeText)
	if h == 0 {
		return "", nil
	}
	p, _, err := procGlobalLock.Call(h)
	if p == 0 {
		return "", fmt.Errorf("windesktop: lock clipboard text: %w", err)
	}
	defer procGlobalUnlock.Call(h)
	size, _, _ := procGlobalSize.Call(h)
	u := unsafe.Slice((*uint16)(osPointer(p)), size/2)
	return fromWindowsText(windows.UTF16ToString(u)), nil
}

// WriteClipboard puts text on the clipboard, with Windows' line ends.
func (d *Desktop) WriteClipboard(text string) error {
	u, err := windows.UTF16FromString(toWindowsText(text))
	if err != nil {
		return fmt.Errorf("windesktop: clipboard text: %w", err)
	}
	const gmemMoveable = 0x0002
	h, _, err := procGlobalAlloc.Call(gmemMoveable, uintptr(len(u)*2))
	if h == 0 {
		return fmt.Errorf("windesktop: GlobalAlloc: %w", err)
	}
	p, _, err := procGlobalLock.Call(h)
	if p == 0 {
		procGlobalFree.Call(h)
		return fmt.Errorf("windesktop: GlobalLock: %w", err)
	}
	copy(unsafe.Slice((*uint16)(osPointer(p)), len(u)), u)
	procGlobalUnlock.Call(h)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := openClipboard(); err != nil {
		procGlobalFree.Call(h)
		return err
	}
	defer procCloseClipboard.Call()
	procEmptyClipboard.Call()
	if r, _, err := procSetClipboardData.Call(cfUnicodeText, h); r == 0 {
		procGlobalFree.Call(h) // on success the clipboard owns it
		return fmt.Errorf("windesktop: SetClipboardData: %w", err)
	}
	return nil
}

// osPointer turns an address the OS returned (memory Go does not manage, here locked global
// memory) into a pointer, without the uintptr→Pointer conversion vet rightly warns about for
// Go memory.
func osPointer(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
