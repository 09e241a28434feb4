package windesktop

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"sync"

	"github.com/assistkit/assist/agent/internal/bgrx"
)

// duplication is one output's IDXGIOutputDuplication as the capture drives it: the shapes of
// its vtable calls, in Go types. dxgi_windows.go speaks COM behind it; the tests fake it, since
// Wine 8.0 has no desktop duplication.
type duplication interface {
	// acquireFrame waits up to timeoutMs for a new frame (AcquireNextFrame) and holds it until
	// releaseFrame. errWaitTimeout: nothing changed.
	acquireFrame(timeoutMs uint32, info *frameInfo) error
	// frameMoveRects and frameDirtyRects fill buf with the held frame's rectangles
	// (GetFrameMoveRects, GetFrameDirtyRects) and return how many; errMoreData with the count
	// needed when buf is too small.
	frameMoveRects(buf []moveRect) (int, error)
	frameDirtyRects(buf []winRect) (int, error)
	// framePointerShape fills buf with the new pointer shape (GetFramePointerShape) and returns
	// its length in bytes; errMoreData with the length needed.
	framePointerShape(buf []byte, info *pointerShapeInfo) (int, error)
	// copyFrame copies rects (output coordinates) of the held frame into dst, BGRA rows of
	// stride bytes (CopyResource into a staging texture, Map, copy, Unmap).
	copyFrame(dst []byte, stride int, rects []image.Rectangle) error
	releaseFrame() error
	close()
}

// The DXGI structures the calls fill, laid out as in dxgi1_2.h (duplication_test.go checks
// sizes and offsets).
type (
	// frameInfo is DXGI_OUTDUPL_FRAME_INFO.
	frameInfo struct {
		lastPresentTime       int64 // 0: no new desktop image, only the pointer moved
		lastMouseUpdateTime   int64 // 0: the pointer did not change
		accumulatedFrames     uint32
		rectsCoalesced        int32
		protectedContentOut   int32
		pointerX, pointerY    int32 // the pointer's top-left, output coordinates
		pointerVisible        int32
		totalMetadataSize     uint32 // bytes of move and dirty rectangles
		pointerShapeBufferLen uint32 // non-zero: a new shape, this many bytes
	}
	// winRect is RECT.
	winRect struct{ left, top, right, bottom int32 }
	// moveRect is DXGI_OUTDUPL_MOVE_RECT: the pixels at src moved to dst.
	moveRect struct {
		srcX, srcY int32
		dst        winRect
	}
	// pointerShapeInfo is DXGI_OUTDUPL_POINTER_SHAPE_INFO.
	pointerShapeInfo struct {
		typ, width, height, pitch uint32
		hotX, hotY                int32
	}
)

func (r winRect) rect() image.Rectangle {
	return image.Rect(int(r.left), int(r.top), int(r.right), int(r.bottom))
}

// hresult is a COM result code; those that reach Go code here are failures.
type hresult uint32

const (
	errInvalidCall     hresult = 0x887A0001
	errNotFound        hresult = 0x887A0002
	errMoreData        hresult = 0x887A0003
	errUnsupported     hresult = 0x887A0004
	errDeviceRemoved   hresult = 0x887A0005
	errNotAvailable    hresult = 0x887A0022
	errAccessLost      hresult = 0x887A0026
	errWaitTimeout     hresult = 0x887A0027
	errSessionDisconn  hresult = 0x887A0028
	errNotImplemented  hresult = 0x80004001
	errNoInterface     hresult = 0x80004002
	errAccessDenied    hresult = 0x80070005
	errOutOfMemory     hresult = 0x8007000E
	errInvalidArgument hresult = 0x80070057
)

var hresultNames = map[hresult]string{
	errInvalidCall: "DXGI_ERROR_INVALID_CALL", errNotFound: "DXGI_ERROR_NOT_FOUND",
	errMoreData:    "DXGI_ERROR_MORE_DATA",
	errUnsupported: "DXGI_ERROR_UNSUPPORTED", errDeviceRemoved: "DXGI_ERROR_DEVICE_REMOVED",
	errNotAvailable: "DXGI_ERROR_NOT_CURRENTLY_AVAILABLE", errAccessLost: "DXGI_ERROR_ACCESS_LOST",
	errWaitTimeout: "DXGI_ERROR_WAIT_TIMEOUT", errSessionDisconn: "DXGI_ERROR_SESSION_DISCONNECTED",
	errNotImplemented: "E_NOTIMPL", errNoInterface: "E_NOINTERFACE", errAccessDenied: "E_ACCESSDENIED",
	errOutOfMemory: "E_OUTOFMEMORY", errInvalidArgument: "E_INVALIDARG",
}

func (h hresult) Error() string {
	if n, ok := hresultNames[h]; ok {
		return fmt.Sprintf("%s (0x%08X)", n, uint32(h))
	}
	return fmt.Sprintf("HRESULT 0x%08X", uint32(h))
}

// frameAction is what a failed AcquireNextFrame calls for.
type frameAction int

const (
	frameWait     frameAction = iota // nothing changed yet: ask again
	frameRecreate                    // the duplication is gone (desktop switch, mode change, full-screen program, device reset): make it again
	frameGiveUp                      // anything else: stop using duplication
)

func actionFor(err error) frameAction {
	var h hresult
	switch {
	case errors.Is(err, errWaitTimeout):
		return frameWait
	case errors.As(err, &h) && (h == errAccessLost || h == errDeviceRemoved || h == errInvalidCall):
		return frameRecreate
	}
	return frameGiveUp
}

// dupOutput is one monitor's duplication and the last desktop image it gave.
type dupOutput struct {
	dup    duplication
	bounds image.Rectangle // virtual-screen coordinates
	pix    []byte          // BGRA rows of bounds.Dx()*4 bytes, kept between frames
	filled bool            // pix holds a whole frame taken while someone waited for changes
}

// outputDesc is what DXGI says of an output before it is duplicated.
type outputDesc struct {
	name     string
	bounds   image.Rectangle
	rotation uint32 // DXGI_MODE_ROTATION: 0 unspecified, 1 identity
	attached bool
}

// checkOutputs decides whether duplication can stand in for GDI on this desktop: every monitor
// must be an attached, unrotated DXGI output (a rotated one's frames come unrotated, and a
// monitor no output covers would stay black).
func checkOutputs(outs []outputDesc, monitors []image.Rectangle) error {
	covered := map[image.Rectangle]bool{}
	for _, o := range outs {
		if !o.attached {
			continue
		}
		if o.rotation > 1 {
			return fmt.Errorf("output %s is rotated (DXGI_MODE_ROTATION %d)", o.name, o.rotation)
		}
		covered[o.bounds] = true
	}
	if len(covered) == 0 {
		return errors.New("no DXGI output is attached to the desktop")
	}
	for _, m := range monitors {
		if !covered[m] {
			return fmt.Errorf("no DXGI output for the monitor at %v", m)
		}
	}
	return nil
}

// dxgiCapture is the desktop captured through duplication: a frame pump (waitChange) that
// keeps each output's last image in memory and says what changed, and capture, which reads that
// memory. Only the pump calls the OS; capture only converts pixels.
type dxgiCapture struct {
	open    func() ([]*dupOutput, error) // makes the duplications, again after one is lost
	timeout uint32                       // ms one waitChange round waits on all outputs

	pump sync.Mutex // one waitChange at a time; guards the buffers below
	next int        // the output to take a frame of first
	move []moveRect
	dirt []winRect
	out  []image.Rectangle
	buf  []byte

	mu   sync.Mutex // outs' images and the pointer
	outs []*dupOutput
	ptr  pointer
}

// pointer is the cursor as the frames told it.
type pointer struct {
	seen       bool
	owner      *dupOutput // the output the pointer was last visible on
	x, y       int        // the shape's top-left, virtual-screen coordinates
	visible    bool
	shape      *image.RGBA
	hotX, hotY int
	serial     uint64
}

// maxRecreate bounds how often in a row a lost duplication is made again without a frame in
// between before duplication is given up.
const maxRecreate = 3

func newDXGICapture(open func() ([]*dupOutput, error)) (*dxgiCapture, error) {
	outs, err := open()
	if err != nil {
		return nil, err
	}
	return &dxgiCapture{open: open, timeout: 100, outs: outs}, nil
}

// waitChange takes frames until one changed pixels, and returns where (virtual-screen
// coordinates, merged). A pointer-only frame updates the cursor and waits on. Its error means
// duplication is over; the caller falls back to GDI.
func (c *dxgiCapture) waitChange(ctx context.Context) ([]image.Rectangle, error) {
	c.pump.Lock()
	defer c.pump.Unlock()
	lost := 0
	for {
		if err := ctx.Err(); err != nil {
			c.stale() // nobody takes frames now: capture reads GDI until the next pump
			return nil, err
		}
		c.mu.Lock()
		outs := c.outs
		c.mu.Unlock()
		if len(outs) == 0 {
			return nil, errors.New("windesktop: desktop duplication has no output")
		}
		each := max(c.timeout/uint32(max(len(outs), 1)), 1)
		for i := range outs {
			k := (c.next + i) % len(outs) // start after the output that changed last, so none starves
			o := outs[k]
			rs, err := c.frame(o, each)
			if err == nil || actionFor(err) == frameWait {
				lost = 0
				if len(rs) > 0 {
					c.next = k + 1
					return slices.Clone(rs), nil
				}
				continue
			}
			if actionFor(err) == frameGiveUp {
				return nil, fmt.Errorf("windesktop: desktop duplication of %v: %w", o.bounds, err)
			}
			if lost++; lost > maxRecreate {
				return nil, fmt.Errorf("windesktop: desktop duplication lost %d times in a row: %w", lost, err)
			}
			if rerr := c.recreate(); rerr != nil {
				return nil, fmt.Errorf("windesktop: desktop duplication lost (%v) and not made again: %w", err, rerr)
			}
			break // the outputs are new
		}
	}
}

// recreate closes every duplication and makes them again (the layout may have changed too).
func (c *dxgiCapture) recreate() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.outs {
		o.dup.close()
	}
	c.outs, c.ptr.owner = nil, nil
	outs, err := c.open()
	if err != nil {
		return err
	}
	c.outs = outs
	return nil
}

// stale marks every image as no longer followed.
func (c *dxgiCapture) stale() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.outs {
		o.filled = false
	}
}

// frame takes one frame of o: the pointer, then the changed pixels into o.pix. It returns the
// changed rectangles in virtual-screen coordinates (none for a pointer-only frame).
func (c *dxgiCapture) frame(o *dupOutput, timeout uint32) ([]image.Rectangle, error) {
	var fi frameInfo
	if err := o.dup.acquireFrame(timeout, &fi); err != nil {
		return nil, err
	}
	defer o.dup.releaseFrame() // a loss it reports, the next acquireFrame reports too
	c.takePointer(o, &fi)
	if fi.lastPresentTime == 0 && o.filled {
		return nil, nil
	}
	whole := image.Rect(0, 0, o.bounds.Dx(), o.bounds.Dy())
	rs := append(c.out[:0], whole)
	var err error
	if o.filled {
		if rs, err = c.frameRects(o, &fi); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	err = o.dup.copyFrame(o.pix, o.bounds.Dx()*4, rs)
	o.filled = err == nil
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		rs[i] = r.Intersect(whole).Add(o.bounds.Min)
	}
	return mergeRects(rs, maxRects), nil
}

// frameRects returns the held frame's move destinations and dirty rectangles (output
// coordinates): both are pixels that changed. Moves need no replay here, since the frame is
// copied whole from the texture; the encoder finds the scroll again.
func (c *dxgiCapture) frameRects(o *dupOutput, fi *frameInfo) ([]image.Rectangle, error) {
	c.out = c.out[:0]
	if fi.totalMetadataSize == 0 {
		return c.out, nil
	}
	var err error
	if c.move, err = fill(c.move, int(fi.totalMetadataSize)/24, o.dup.frameMoveRects); err != nil {
		return nil, fmt.Errorf("move rects: %w", err)
	}
	for _, m := range c.move {
		c.out = append(c.out, m.dst.rect())
	}
	if c.dirt, err = fill(c.dirt, int(fi.totalMetadataSize)/16, o.dup.frameDirtyRects); err != nil {
		return nil, fmt.Errorf("dirty rects: %w", err)
	}
	for _, d := range c.dirt {
		c.out = append(c.out, d.rect())
	}
	return c.out, nil
}

// fill calls get with buf grown to at least n, and once more at the size get asks for.
func fill[T any](buf []T, n int, get func([]T) (int, error)) ([]T, error) {
	for range 2 {
		if cap(buf) < n {
			buf = make([]T, n)
		}
		buf = buf[:cap(buf)]
		got, err := get(buf)
		if errors.Is(err, errMoreData) && got > len(buf) {
			n = got
			continue
		}
		if err != nil {
			return buf[:0], err
		}
		return buf[:min(got, len(buf))], nil
	}
	return buf[:0], errMoreData
}

// takePointer follows the pointer: the position and visibility from the frame of the output
// it is on (the others say invisible), and a new shape when the frame carries one. A shape
// that cannot be read or converted leaves the last one: a cursor is not worth the screen.
func (c *dxgiCapture) takePointer(o *dupOutput, fi *frameInfo) {
	var shape *image.RGBA
	var hx, hy int
	if fi.pointerShapeBufferLen > 0 {
		var si pointerShapeInfo
		var err error
		c.buf, err = fill(c.buf, int(fi.pointerShapeBufferLen), func(b []byte) (int, error) { return o.dup.framePointerShape(b, &si) })
		if err == nil {
			shape, hx, hy, _ = pointerImage(si, c.buf)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &c.ptr
	if shape != nil {
		p.shape, p.hotX, p.hotY = shape, hx, hy
		p.serial++
	}
	if fi.lastMouseUpdateTime == 0 {
		return
	}
	visible := fi.pointerVisible != 0
	if !visible && p.owner != o && p.owner != nil {
		return // it is visible on another output
	}
	if visible != p.visible {
		p.serial++
	}
	p.seen, p.visible, p.owner = true, visible, o
	p.x, p.y = o.bounds.Min.X+int(fi.pointerX), o.bounds.Min.Y+int(fi.pointerY)
}

// cursor is rdp.CursorSource's answer: the hotspot's position, the shape (nil while hidden).
func (c *dxgiCapture) cursor() (x, y int, shape *image.RGBA, hotX, hotY int, serial uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.ptr
	if !p.seen {
		return 0, 0, nil, 0, 0, 0, errors.New("windesktop: no pointer in the frames yet")
	}
	if !p.visible {
		return p.x, p.y, nil, 0, 0, p.serial, nil
	}
	return p.x + p.hotX, p.y + p.hotY, p.shape, p.hotX, p.hotY, p.serial, nil
}

// errNotFollowed is capture's answer while some output's image is not kept up to date.
var errNotFollowed = errors.New("windesktop: the duplicated images are not followed")

// capture converts r of the kept images into dst. Parts of r outside every output are black.
func (c *dxgiCapture) capture(dst *image.RGBA, r image.Rectangle) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	covered := false
	for _, o := range c.outs {
		if o.bounds.Overlaps(r) && !o.filled {
			return errNotFollowed
		}
		covered = covered || o.bounds.Overlaps(r)
	}
	if !covered {
		return errNotFollowed
	}
	area := 0
	for _, o := range c.outs {
		in := o.bounds.Intersect(r)
		area += in.Dx() * in.Dy()
	}
	if area < r.Dx()*r.Dy() { // opaque black where no monitor is, as GDI gives
		for y := range r.Dy() {
			row := dst.Pix[y*dst.Stride : y*dst.Stride+r.Dx()*4]
			for i := 0; i < len(row); i += 4 {
				row[i], row[i+1], row[i+2], row[i+3] = 0, 0, 0, 0xff
			}
		}
	}
	for _, o := range c.outs {
		in := o.bounds.Intersect(r)
		if in.Empty() {
			continue
		}
		stride := o.bounds.Dx() * 4
		for y := in.Min.Y; y < in.Max.Y; y++ {
			src := o.pix[(y-o.bounds.Min.Y)*stride+(in.Min.X-o.bounds.Min.X)*4:]
			d := dst.Pix[(y-r.Min.Y)*dst.Stride+(in.Min.X-r.Min.X)*4:]
			bgrx.ToRGBA(d, src, in.Dx())
		}
	}
	return nil
}

func (c *dxgiCapture) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.outs {
		o.dup.close()
	}
	c.outs = nil
}

// maxRects bounds the rectangles one change reports; more collapse into their bounding box.
const maxRects = 64

// mergeRects unites rectangles that overlap or touch, in place, until none do; empty ones go.
// Beyond max the bounding box stands for them all.
func mergeRects(rs []image.Rectangle, max int) []image.Rectangle {
	rs = dropEmpty(rs)
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(rs); i++ {
			for j := i + 1; j < len(rs); j++ {
				if touch(rs[i], rs[j]) {
					rs[i] = rs[i].Union(rs[j])
					rs[j] = rs[len(rs)-1]
					rs = rs[:len(rs)-1]
					merged = true
					j = i // rs[i] grew: look at every other one again
				}
			}
		}
	}
	if len(rs) > max {
		u := rs[0]
		for _, r := range rs[1:] {
			u = u.Union(r)
		}
		rs = append(rs[:0], u)
	}
	return rs
}

func dropEmpty(rs []image.Rectangle) []image.Rectangle {
	out := rs[:0]
	for _, r := range rs {
		if !r.Empty() {
			out = append(out, r.Canon())
		}
	}
	return out
}

// touch says whether a and b overlap or share an edge. Their union may take in pixels of
// neither, which costs the encoder a comparison and never misses a change.
func touch(a, b image.Rectangle) bool {
	return a.Min.X <= b.Max.X && b.Min.X <= a.Max.X && a.Min.Y <= b.Max.Y && b.Min.Y <= a.Max.Y
}
