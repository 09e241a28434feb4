package windesktop

import (
	"fmt"
	"image"
	"sync"
	"unsafe"
)

// gdiCursor is the pointer while capture is GDI's: GetCursorInfo for where it is and which
// cursor it shows, GetIconInfo and GetDIBits for that cursor's shape (read again only when the
// cursor changes), turned into the DXGI shape layouts so that one conversion serves both.
type gdiCursor struct {
	mu         sync.Mutex
	handle     uintptr // the cursor whose shape is held
	read       bool    // handle's shape was read
	visible    bool
	shape      *image.RGBA
	hotX, hotY int
	serial     uint64
}

// cursorInfo is CURSORINFO.
type cursorInfo struct {
	size, flags uint32
	cursor      uintptr
	x, y        int32
}

// iconInfo is ICONINFO.
type iconInfo struct {
	icon              int32
	hotX, hotY        uint32
	hbmMask, hbmColor uintptr
}

func (c *gdiCursor) cursor() (x, y int, shape *image.RGBA, hotX, hotY int, serial uint64, err error) {
	const cursorShowing = 1
	ci := cursorInfo{size: uint32(unsafe.Sizeof(cursorInfo{}))}
	if ok, _, err := procGetCursorInfo.Call(uintptr(unsafe.Pointer(&ci))); ok == 0 {
		return 0, 0, nil, 0, 0, 0, fmt.Errorf("windesktop: GetCursorInfo: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	visible := ci.flags&cursorShowing != 0
	if visible != c.visible {
		c.visible = visible
		c.serial++
	}
	h := ci.cursor
	if h == 0 {
		h = c.handle // Wine sometimes gives none for another process's cursor: the last stands
	}
	if visible && (h != c.handle || !c.read) {
		c.handle, c.read = h, true
		c.serial++
		c.shape, c.hotX, c.hotY, err = cursorShape(h)
		if err != nil {
			// Wine's handles of other processes' cursors are not valid in this one (Windows'
			// are): the arrow, the likeliest, stands for a cursor that cannot be read.
			const idcArrow = 32512
			arrow, _, _ := procLoadCursor.Call(0, idcArrow)
			if c.shape, c.hotX, c.hotY, err = cursorShape(arrow); err != nil {
				c.shape = nil
			}
		}
	}
	if !visible || c.shape == nil {
		return int(ci.x), int(ci.y), nil, 0, 0, c.serial, nil
	}
	return int(ci.x), int(ci.y), c.shape, c.hotX, c.hotY, c.serial, nil
}

// cursorShape reads a cursor's bitmaps. A monochrome cursor has only a mask bitmap, its AND
// mask over its XOR mask; a colour one has a colour bitmap, with alpha (DXGI's colour shape) or
// without (its AND mask then says which pixels XOR: DXGI's masked colour).
func cursorShape(h uintptr) (*image.RGBA, int, int, error) {
	var ii iconInfo
	if ok, _, err := procGetIconInfo.Call(h, uintptr(unsafe.Pointer(&ii))); ok == 0 {
		return nil, 0, 0, fmt.Errorf("GetIconInfo: %w", err)
	}
	defer procDeleteObject.Call(ii.hbmMask)
	if ii.hbmColor != 0 {
		defer procDeleteObject.Call(ii.hbmColor)
	}
	mask, w, mh, err := bitmapBits(ii.hbmMask)
	if err != nil {
		return nil, 0, 0, err
	}
	var color []byte
	cw, ch := 0, 0
	if ii.hbmColor != 0 {
		if color, cw, ch, err = bitmapBits(ii.hbmColor); err != nil {
			return nil, 0, 0, err
		}
	}
	si, buf := iconShape(mask, w, mh, color, cw, ch)
	si.hotX, si.hotY = int32(ii.hotX), int32(ii.hotY)
	return pointerImage(si, buf)
}

// bitmapBits reads a bitmap as top-down 32-bit BGRA rows (a monochrome one as black and white).
func bitmapBits(bmp uintptr) ([]byte, int, int, error) {
	dc, _, err := procCreateCompatibleDC.Call(0)
	if dc == 0 {
		return nil, 0, 0, fmt.Errorf("CreateCompatibleDC: %w", err)
	}
	defer procDeleteDC.Call(dc)
	bi := bitmapInfo{}
	bi.size = uint32(unsafe.Offsetof(bi.colors))
	// With no bit count, GetDIBits fills in the bitmap's size.
	if ok, _, err := procGetDIBits.Call(dc, bmp, 0, 0, 0, uintptr(unsafe.Pointer(&bi)), 0); ok == 0 {
		return nil, 0, 0, fmt.Errorf("GetDIBits (size): %w", err)
	}
	w, h := int(bi.width), int(bi.height)
	if h < 0 {
		h = -h
	}
	if w <= 0 || h <= 0 || w > maxShape || h > 2*maxShape {
		return nil, 0, 0, fmt.Errorf("cursor bitmap %d×%d is out of range", w, h)
	}
	bi = bitmapInfo{width: int32(w), height: -int32(h), planes: 1, bpp: 32}
	bi.size = uint32(unsafe.Offsetof(bi.colors))
	buf := make([]byte, w*h*4)
	if n, _, err := procGetDIBits.Call(dc, bmp, 0, uintptr(h), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&bi)), 0); int(n) != h {
		return nil, 0, 0, fmt.Errorf("GetDIBits: %d of %d rows: %w", n, h, err)
	}
	return buf, w, h, nil
}
