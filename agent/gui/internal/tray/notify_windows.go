package tray

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"time"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows the icon is the shell's (Shell_NotifyIconW), owned by a hidden window that this
// package makes on a thread of its own: the shell tells the window of clicks on the icon
// (wmIcon), and the window's thread shows the menu (TrackPopupMenu) and changes the icon. No
// call here waits for Gio's window thread, nor Gio's for this one.
//
// The window is a hidden top-level window, not a message-only one: the menu needs its owner to
// be the foreground window (or it stays up when the person clicks elsewhere), which a
// message-only window cannot be, and only top-level windows hear "TaskbarCreated", after which
// the icon is added again (Explorer restarted).

var (
	user32   = windows.NewLazySystemDLL("user32.dll")
	shell32  = windows.NewLazySystemDLL("shell32.dll")
	gdi32    = windows.NewLazySystemDLL("gdi32.dll")
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")

	procShellNotifyIcon       = shell32.NewProc("Shell_NotifyIconW")
	procRegisterClassEx       = user32.NewProc("RegisterClassExW")
	procCreateWindowEx        = user32.NewProc("CreateWindowExW")
	procDefWindowProc         = user32.NewProc("DefWindowProcW")
	procDestroyWindow         = user32.NewProc("DestroyWindow")
	procGetMessage            = user32.NewProc("GetMessageW")
	procTranslateMessage      = user32.NewProc("TranslateMessage")
	procDispatchMessage       = user32.NewProc("DispatchMessageW")
	procPostMessage           = user32.NewProc("PostMessageW")
	procPostQuitMessage       = user32.NewProc("PostQuitMessage")
	procRegisterWindowMessage = user32.NewProc("RegisterWindowMessageW")
	procCreatePopupMenu       = user32.NewProc("CreatePopupMenu")
	procAppendMenu            = user32.NewProc("AppendMenuW")
	procTrackPopupMenu        = user32.NewProc("TrackPopupMenu")
	procDestroyMenu           = user32.NewProc("DestroyMenu")
	procSetForegroundWindow   = user32.NewProc("SetForegroundWindow")
	procGetCursorPos          = user32.NewProc("GetCursorPos")
	procGetSystemMetrics      = user32.NewProc("GetSystemMetrics")
	procCreateIconIndirect    = user32.NewProc("CreateIconIndirect")
	procDestroyIcon           = user32.NewProc("DestroyIcon")
	procCreateBitmap          = gdi32.NewProc("CreateBitmap")
	procDeleteObject          = gdi32.NewProc("DeleteObject")
	procGetModuleHandle       = kernel32.NewProc("GetModuleHandleW")
)

// ClassName is the class of the icon's hidden window (winprobe finds the window by it).
const ClassName = "assist-agent tray icon"

const (
	wmApp          = 0x8000
	wmIcon         = wmApp + 1 // the shell tells of the person's doings on the icon
	wmUpdate       = wmApp + 2 // Set: show the state now held
	wmNull         = 0x0000
	wmDestroy      = 0x0002
	wmClose        = 0x0010
	wmContextMenu  = 0x007b
	wmLButtonUp    = 0x0202
	wmRButtonUp    = 0x0205
	ninSelect      = 0x0400
	ninKeySelect   = 0x0401
	nimAdd         = 0
	nimModify      = 1
	nimDelete      = 2
	nimSetVersion  = 4
	nifMessage     = 0x01
	nifIcon        = 0x02
	nifTip         = 0x04
	nifShowTip     = 0x80
	iconVersion4   = 4
	iconID         = 1
	mfGrayed       = 0x0001
	mfSeparator    = 0x0800
	tpmRightButton = 0x0002
	tpmNoNotify    = 0x0080
	tpmReturnCmd   = 0x0100
	smCXSmIcon     = 49
	wsPopup        = 0x80000000
	wsExToolWindow = 0x00000080
)

// notifyIconData is NOTIFYICONDATAW (shellapi.h), as laid out for 64-bit Windows.
type notifyIconData struct {
	Size            uint32
	Wnd             uintptr
	ID              uint32
	Flags           uint32
	CallbackMessage uint32
	Icon            uintptr
	Tip             [128]uint16
	State           uint32
	StateMask       uint32
	Info            [256]uint16
	Version         uint32 // or uTimeout
	InfoTitle       [64]uint16
	InfoFlags       uint32
	GUIDItem        windows.GUID
	BalloonIcon     uintptr
}

type wndClassEx struct {
	Size, Style                        uint32
	WndProc                            uintptr
	ClsExtra, WndExtra                 int32
	Instance, Icon, Cursor, Background uintptr
	MenuName, ClassName                *uint16
	IconSm                             uintptr
}

type msg struct {
	Wnd            uintptr
	Message        uint32
	WParam, LParam uintptr
	Time           uint32
	X, Y           int32
	Private        uint32
}

type iconInfo struct {
	Icon               int32
	XHotspot, YHotspot uint32
	Mask, Color        uintptr
}

// Tray is the icon while it is shown. Its methods may be called from any goroutine.
type Tray struct {
	opts Options
	hwnd uintptr
	icon uintptr // HICON
	v4   bool    // the shell speaks NOTIFYICON_VERSION_4
	done chan struct{}

	mu    sync.Mutex
	state State
}

// The window procedure is one callback for the process (Windows allows a program a couple of
// thousand, never freed), and its class is registered once; it finds the icon by its window.
var (
	windowClass = sync.OnceValues(registerClass)
	trays       sync.Map // hwnd → *Tray
)

// Open shows the icon saying s. The error wraps ErrUnavailable when the shell takes no icon
// (no notification area: no Explorer, a session without a taskbar).
func Open(opts Options, s State) (*Tray, error) {
	t := &Tray{opts: opts, state: s, done: make(chan struct{})}
	started := make(chan error, 1)
	go t.run(started)
	select {
	case err := <-started:
		if err != nil {
			return nil, err
		}
	case <-time.After(10 * time.Second):
		return nil, errors.New("show the tray icon: its window did not start in 10 s")
	}
	return t, nil
}

// run is the icon's window thread: it makes the window and the icon, then serves the window's
// messages until Close destroys it.
func (t *Tray) run(started chan<- error) {
	runtime.LockOSThread() // the window is this thread's; the thread ends with it
	defer close(t.done)
	class, err := windowClass()
	if err != nil {
		started <- fmt.Errorf("show the tray icon: %w", err)
		return
	}
	title, _ := windows.UTF16PtrFromString(t.opts.ID)
	inst, _, _ := procGetModuleHandle.Call(0)
	hwnd, _, err := procCreateWindowEx.Call(wsExToolWindow, class, uintptr(unsafe.Pointer(title)), wsPopup, 0, 0, 0, 0, 0, 0, inst, 0)
	if hwnd == 0 {
		started <- fmt.Errorf("show the tray icon: CreateWindowEx: %w", err)
		return
	}
	t.hwnd = hwnd
	trays.Store(hwnd, t)
	defer trays.Delete(hwnd)
	t.icon = makeIcon(t.opts.Image)
	if err := t.add(); err != nil {
		procDestroyWindow.Call(hwnd)
		if t.icon != 0 {
			procDestroyIcon.Call(t.icon)
		}
		started <- err
		return
	}
	started <- nil
	var m msg
	for {
		r, _, _ := procGetMessage.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if int32(r) <= 0 {
			break
		}
		procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
		procDispatchMessage.Call(uintptr(unsafe.Pointer(&m)))
	}
	if t.icon != 0 {
		procDestroyIcon.Call(t.icon)
	}
}

// add puts the icon in the notification area and asks for the shell's current way of telling
// of clicks (NOTIFYICON_VERSION_4: a context-menu message for the right button and the menu
// key, a select message for a left click or Enter); an older shell tells of mouse messages.
func (t *Tray) add() error {
	d := t.data(nifMessage | nifIcon | nifTip | nifShowTip)
	if ok, _, err := procShellNotifyIcon.Call(nimAdd, uintptr(unsafe.Pointer(&d))); ok == 0 {
		return fmt.Errorf("%w: Shell_NotifyIcon(NIM_ADD) failed: %v", ErrUnavailable, err)
	}
	d.Version = iconVersion4
	ok, _, _ := procShellNotifyIcon.Call(nimSetVersion, uintptr(unsafe.Pointer(&d)))
	t.v4 = ok != 0
	return nil
}

// data is the icon's NOTIFYICONDATAW saying the state now held.
func (t *Tray) data(flags uint32) notifyIconData {
	t.mu.Lock()
	text := t.state.Text
	t.mu.Unlock()
	d := notifyIconData{Wnd: t.hwnd, ID: iconID, Flags: flags, CallbackMessage: wmIcon, Icon: t.icon}
	d.Size = uint32(unsafe.Sizeof(d))
	tip := utf16.Encode([]rune(text))
	copy(d.Tip[:len(d.Tip)-1], tip) // the shell's tooltip holds 127 characters
	return d
}

// Set changes what the icon says and offers.
func (t *Tray) Set(s State) {
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
	procPostMessage.Call(t.hwnd, wmUpdate, 0, 0)
}

// Close takes the icon away and ends its window's thread.
func (t *Tray) Close() {
	procPostMessage.Call(t.hwnd, wmClose, 0, 0)
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
	}
}

func registerClass() (uintptr, error) {
	name, _ := windows.UTF16PtrFromString(ClassName)
	inst, _, _ := procGetModuleHandle.Call(0)
	wc := wndClassEx{WndProc: windows.NewCallback(wndProc), Instance: inst, ClassName: name}
	wc.Size = uint32(unsafe.Sizeof(wc))
	atom, _, err := procRegisterClassEx.Call(uintptr(unsafe.Pointer(&wc)))
	if atom == 0 {
		return 0, fmt.Errorf("RegisterClassEx: %w", err)
	}
	return atom, nil
}

// taskbarCreated is the message Explorer sends every top-level window when it (re)starts.
var taskbarCreated = sync.OnceValue(func() uintptr {
	name, _ := windows.UTF16PtrFromString("TaskbarCreated")
	m, _, _ := procRegisterWindowMessage.Call(uintptr(unsafe.Pointer(name)))
	return m
})

func wndProc(hwnd, m, wp, lp uintptr) uintptr {
	v, ok := trays.Load(hwnd)
	if !ok {
		r, _, _ := procDefWindowProc.Call(hwnd, m, wp, lp)
		return r
	}
	t := v.(*Tray)
	switch m {
	case wmIcon:
		t.clicked(uint32(lp & 0xffff))
		return 0
	case wmUpdate:
		d := t.data(nifTip | nifShowTip)
		procShellNotifyIcon.Call(nimModify, uintptr(unsafe.Pointer(&d)))
		return 0
	case wmDestroy:
		d := t.data(0)
		procShellNotifyIcon.Call(nimDelete, uintptr(unsafe.Pointer(&d)))
		procPostQuitMessage.Call(0)
		return 0
	}
	if m == taskbarCreated() && m != 0 {
		t.add()
		return 0
	}
	r, _, _ := procDefWindowProc.Call(hwnd, m, wp, lp)
	return r
}

// clicked answers the person's doing on the icon: the menu for the right button (or the menu
// key), Activate for the left button (or Enter).
func (t *Tray) clicked(event uint32) {
	menu, activate := wmRButtonUp, uint32(wmLButtonUp)
	if t.v4 {
		menu, activate = wmContextMenu, ninSelect
	}
	switch {
	case event == uint32(menu):
		t.showMenu()
	case event == activate || t.v4 && event == ninKeySelect:
		if t.opts.Activate != nil {
			go t.opts.Activate()
		}
	}
}

// showMenu shows the items at the pointer and runs the one chosen.
func (t *Tray) showMenu() {
	t.mu.Lock()
	items := t.state.Items
	t.mu.Unlock()
	m, _, _ := procCreatePopupMenu.Call()
	if m == 0 {
		return
	}
	defer procDestroyMenu.Call(m)
	for i, it := range items {
		if it.Label == "" {
			procAppendMenu.Call(m, mfSeparator, 0, 0)
			continue
		}
		flags := uintptr(0)
		if it.Do == nil {
			flags = mfGrayed
		}
		label, _ := windows.UTF16PtrFromString(it.Label)
		procAppendMenu.Call(m, flags, uintptr(i+1), uintptr(unsafe.Pointer(label)))
	}
	var pt struct{ X, Y int32 }
	procGetCursorPos.Call(uintptr(unsafe.Pointer(&pt)))
	procSetForegroundWindow.Call(t.hwnd) // or the menu stays up when the person clicks elsewhere
	cmd, _, _ := procTrackPopupMenu.Call(m, tpmRightButton|tpmReturnCmd|tpmNoNotify, uintptr(pt.X), uintptr(pt.Y), 0, t.hwnd, 0)
	procPostMessage.Call(t.hwnd, wmNull, 0, 0) // as Windows' documentation asks after such a menu
	if i := int(cmd) - 1; i >= 0 && i < len(items) && items[i].Do != nil {
		go items[i].Do()
	}
}

// makeIcon is the icon's picture at the shell's small-icon size, or 0 when it cannot be made
// (the shell then shows an empty icon, which still has its tooltip and menu).
func makeIcon(draw func(int) *image.NRGBA) uintptr {
	if draw == nil {
		return 0
	}
	size, _, _ := procGetSystemMetrics.Call(smCXSmIcon)
	if size == 0 || size > 256 {
		size = 16
	}
	img := draw(int(size))
	n := int(size)
	bgra := make([]byte, 0, 4*n*n)
	for y := range n {
		for x := range n {
			c := img.NRGBAAt(x, y)
			bgra = append(bgra, c.B, c.G, c.R, c.A)
		}
	}
	mask := make([]byte, n*((n+15)/16*2)) // all 0: the alpha channel says what shows
	color, _, _ := procCreateBitmap.Call(size, size, 1, 32, uintptr(unsafe.Pointer(&bgra[0])))
	and, _, _ := procCreateBitmap.Call(size, size, 1, 1, uintptr(unsafe.Pointer(&mask[0])))
	defer procDeleteObject.Call(color)
	defer procDeleteObject.Call(and)
	if color == 0 || and == 0 {
		return 0
	}
	ii := iconInfo{Icon: 1, Mask: and, Color: color}
	h, _, _ := procCreateIconIndirect.Call(uintptr(unsafe.Pointer(&ii)))
	return h
}
