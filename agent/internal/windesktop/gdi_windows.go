package windesktop

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/assistkit/assist/agent/internal/bgrx"
)

// gdiCapture reads the screen with BitBlt into a DIB section that lives as long as the
// capture: GDI writes the pixels straight into memory this process reads, so a frame costs one
// blit and one conversion and allocates nothing. The DIB grows to the virtual screen's size the
// first time and is only made again when the screen grows.
type gdiCapture struct {
	mu   sync.Mutex
	mem  uintptr // memory DC with the DIB selected
	bmp  uintptr
	old  uintptr // the memory DC's original bitmap
	bits []byte  // the DIB's pixels, top-down rows of w 32-bit BGRX pixels
	w, h int
}

type bitmapInfo struct {
	size          uint32
	width, height int32
	planes, bpp   uint16
	compression   uint32
	sizeImage     uint32
	xppm, yppm    int32
	used, import_ uint32
	colors        [1]uint32
}

const (
	srcCopy = 0x00CC0020
	// Not CAPTUREBLT: since Windows 8 the compositor puts layered windows into the screen DC
	// anyway, and CAPTUREBLT makes the cursor flicker on every blit.
)

func newGDICapture() (*gdiCapture, error) {
	mem, _, err := procCreateCompatibleDC.Call(0)
	if mem == 0 {
		return nil, fmt.Errorf("windesktop: CreateCompatibleDC: %w", err)
	}
	return &gdiCapture{mem: mem}, nil
}

// ensure makes the DIB at least w×h (and at least the virtual screen).
func (g *gdiCapture) ensure(w, h int) error {
	if w <= g.w && h <= g.h {
		return nil
	}
	v := virtualScreen()
	w, h = max(w, v.Dx(), g.w), max(h, v.Dy(), g.h)
	bi := bitmapInfo{width: int32(w), height: -int32(h), planes: 1, bpp: 32}
	bi.size = uint32(unsafe.Offsetof(bi.colors))
	var bits unsafe.Pointer
	bmp, _, err := procCreateDIBSection.Call(g.mem, uintptr(unsafe.Pointer(&bi)), 0, uintptr(unsafe.Pointer(&bits)), 0, 0)
	if bmp == 0 || bits == nil {
		return fmt.Errorf("windesktop: CreateDIBSection %dx%d: %w", w, h, err)
	}
	old, _, _ := procSelectObject.Call(g.mem, bmp)
	if g.bmp != 0 {
		procDeleteObject.Call(g.bmp)
	} else {
		g.old = old
	}
	g.bmp, g.bits, g.w, g.h = bmp, unsafe.Slice((*byte)(bits), w*h*4), w, h
	return nil
}

func (g *gdiCapture) capture(dst *image.RGBA, r image.Rectangle) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	w, h := r.Dx(), r.Dy()
	if err := g.ensure(w, h); err != nil {
		return err
	}
	// A DC from GetDC must be released by the thread that got it.
	runtime.LockOSThread()
	screen, _, _ := procGetDC.Call(0)
	var ok uintptr
	var err error
	if screen != 0 {
		ok, _, err = procBitBlt.Call(g.mem, 0, 0, uintptr(w), uintptr(h), screen, uintptr(r.Min.X), uintptr(r.Min.Y), srcCopy)
		procReleaseDC.Call(0, screen)
	}
	runtime.UnlockOSThread()
	if screen == 0 || ok == 0 {
		if derr := checkInputDesktop(); derr != nil {
			return derr
		}
		return fmt.Errorf("windesktop: BitBlt %v: %w", r, err)
	}
	procGdiFlush.Call()
	for y := range h {
		bgrx.ToRGBA(dst.Pix[y*dst.Stride:], g.bits[y*g.w*4:], w)
	}
	return nil
}

func (g *gdiCapture) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bmp != 0 {
		procSelectObject.Call(g.mem, g.old)
		procDeleteObject.Call(g.bmp)
		g.bmp, g.bits = 0, nil
	}
	if g.mem != 0 {
		procDeleteDC.Call(g.mem)
		g.mem = 0
	}
}

// virtualScreen is the bounding box of every monitor, in virtual-screen coordinates.
func virtualScreen() image.Rectangle {
	m := func(i uintptr) int { v, _, _ := procGetSystemMetrics.Call(i); return int(int32(v)) }
	x, y := m(smXVirtualScreen), m(smYVirtualScreen)
	return image.Rect(x, y, x+m(smCXVirtualScreen), y+m(smCYVirtualScreen))
}

// checkInputDesktop returns ErrSecureDesktop while the desktop receiving input is not the one
// this thread runs on: the person's own.
func checkInputDesktop() error {
	const desktopReadObjects = 0x0001
	h, _, err := procOpenInputDesktop.Call(0, 0, desktopReadObjects)
	if h == 0 {
		return inputDesktopErr("", "", err)
	}
	defer procCloseDesktop.Call(h)
	name, err := desktopName(h)
	if err != nil {
		return inputDesktopErr("", "", err)
	}
	own, _, _ := procGetThreadDesktop.Call(uintptr(windows.GetCurrentThreadId()))
	ownName, _ := desktopName(own) // a handle GetThreadDesktop gives needs no closing
	return inputDesktopErr(name, ownName, nil)
}

// desktopName is the name of the desktop h (GetUserObjectInformation, UOI_NAME).
func desktopName(h uintptr) (string, error) {
	const uoiName = 2
	if h == 0 {
		return "", errors.New("no desktop")
	}
	var buf [64]uint16
	var n uint32
	if ok, _, err := procGetUserObjectInformation.Call(h, uoiName, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)*2), uintptr(unsafe.Pointer(&n))); ok == 0 {
		return "", err
	}
	return windows.UTF16ToString(buf[:]), nil
}
