package windesktop

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// The Go mirrors of the DXGI structures have the C layouts (dxgi1_2.h, 64-bit).
func TestDuplicationStructLayout(t *testing.T) {
	var fi frameInfo
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof DXGI_OUTDUPL_FRAME_INFO", unsafe.Sizeof(fi), 48},
		{"AccumulatedFrames", unsafe.Offsetof(fi.accumulatedFrames), 16},
		{"PointerPosition", unsafe.Offsetof(fi.pointerX), 28},
		{"PointerPosition.Visible", unsafe.Offsetof(fi.pointerVisible), 36},
		{"TotalMetadataBufferSize", unsafe.Offsetof(fi.totalMetadataSize), 40},
		{"PointerShapeBufferSize", unsafe.Offsetof(fi.pointerShapeBufferLen), 44},
		{"sizeof RECT", unsafe.Sizeof(winRect{}), 16},
		{"sizeof DXGI_OUTDUPL_MOVE_RECT", unsafe.Sizeof(moveRect{}), 24},
		{"sizeof DXGI_OUTDUPL_POINTER_SHAPE_INFO", unsafe.Sizeof(pointerShapeInfo{}), 24},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestMergeRects(t *testing.T) {
	r := image.Rect
	for _, c := range []struct {
		name string
		in   []image.Rectangle
		want []image.Rectangle
	}{
		{"none", nil, nil},
		{"empty ones go", []image.Rectangle{r(5, 5, 5, 9), r(0, 0, 2, 2)}, []image.Rectangle{r(0, 0, 2, 2)}},
		{"apart stay apart", []image.Rectangle{r(0, 0, 10, 10), r(20, 0, 30, 10)}, []image.Rectangle{r(0, 0, 10, 10), r(20, 0, 30, 10)}},
		{"overlapping unite", []image.Rectangle{r(0, 0, 10, 10), r(5, 5, 15, 15)}, []image.Rectangle{r(0, 0, 15, 15)}},
		{"sharing an edge unite", []image.Rectangle{r(0, 0, 10, 10), r(10, 0, 20, 10)}, []image.Rectangle{r(0, 0, 20, 10)}},
		{"a chain unites through its middle", []image.Rectangle{r(0, 0, 10, 10), r(30, 0, 40, 10), r(8, 0, 32, 4)}, []image.Rectangle{r(0, 0, 40, 10)}},
		{"a union that reaches a third takes it in", []image.Rectangle{r(0, 0, 10, 10), r(12, 12, 14, 14), r(5, 5, 12, 20)}, []image.Rectangle{r(0, 0, 14, 20)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := mergeRects(slices.Clone(c.in), maxRects)
			slices.SortFunc(got, func(a, b image.Rectangle) int { return a.Min.X - b.Min.X })
			if !slices.Equal(got, c.want) {
				t.Fatalf("mergeRects(%v) = %v, want %v", c.in, got, c.want)
			}
		})
	}
	var many []image.Rectangle
	for i := range 100 {
		many = append(many, r(i*10, 0, i*10+5, 5))
	}
	if got := mergeRects(many, maxRects); !slices.Equal(got, []image.Rectangle{r(0, 0, 995, 5)}) {
		t.Fatalf("100 rectangles became %v, want their bounding box", got)
	}
}

func TestActionFor(t *testing.T) {
	for _, c := range []struct {
		err  error
		want frameAction
	}{
		{errWaitTimeout, frameWait},
		{errAccessLost, frameRecreate},
		{errDeviceRemoved, frameRecreate},
		{errInvalidCall, frameRecreate},
		{errAccessDenied, frameGiveUp},
		{errSessionDisconn, frameGiveUp},
		{errors.New("pointer shape: garbage"), frameGiveUp},
	} {
		if got := actionFor(c.err); got != c.want {
			t.Errorf("actionFor(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestCheckOutputs(t *testing.T) {
	left, right := image.Rect(0, 0, 1920, 1080), image.Rect(1920, 0, 3200, 1024)
	out := func(name string, b image.Rectangle) outputDesc {
		return outputDesc{name: name, bounds: b, rotation: 1, attached: true}
	}
	rotated := out(`\\.\DISPLAY2`, right)
	rotated.rotation = 2
	detached := out(`\\.\DISPLAY3`, image.Rect(0, 0, 800, 600))
	detached.attached = false
	for _, c := range []struct {
		name     string
		outs     []outputDesc
		monitors []image.Rectangle
		want     string // "" accepted, else part of the reason
	}{
		{"two monitors", []outputDesc{out(`\\.\DISPLAY1`, left), out(`\\.\DISPLAY2`, right)}, []image.Rectangle{left, right}, ""},
		{"a detached output is passed over", []outputDesc{out(`\\.\DISPLAY1`, left), detached}, []image.Rectangle{left}, ""},
		{"no output", nil, []image.Rectangle{left}, "no DXGI output is attached"},
		{"a rotated output", []outputDesc{out(`\\.\DISPLAY1`, left), rotated}, []image.Rectangle{left, right}, `\\.\DISPLAY2 is rotated`},
		{"a monitor without output", []outputDesc{out(`\\.\DISPLAY1`, left)}, []image.Rectangle{left, right}, "no DXGI output for the monitor at (1920,0)-(3200,1024)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkOutputs(c.outs, c.monitors)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("checkOutputs = %v, want %q", err, c.want)
			}
		})
	}
}

// fakeFrame is what one AcquireNextFrame of a fakeDup returns.
type fakeFrame struct {
	err   error
	info  frameInfo
	moves []moveRect
	dirty []winRect
	shape *pointerShapeInfo
	bits  []byte
	fill  byte // the frame's image: every byte this value
}

// fakeDup plays frames in order; then it times out.
type fakeDup struct {
	w, h     int
	frames   []fakeFrame
	held     *fakeFrame
	closed   bool
	moreData bool // answer the first rectangle call with DXGI_ERROR_MORE_DATA
	copied   []image.Rectangle
}

func (f *fakeDup) acquireFrame(_ uint32, info *frameInfo) error {
	if f.held != nil {
		return errInvalidCall
	}
	if len(f.frames) == 0 {
		return errWaitTimeout
	}
	fr := f.frames[0]
	f.frames = f.frames[1:]
	if fr.err != nil {
		return fr.err
	}
	*info = fr.info
	f.held = &fr
	return nil
}

func fakeRects[T any](f *fakeDup, buf []T, have []T) (int, error) {
	if f.held == nil {
		return 0, errInvalidCall
	}
	if f.moreData || len(buf) < len(have) {
		f.moreData = false
		return len(have) + 3, errMoreData
	}
	return copy(buf, have), nil
}

func (f *fakeDup) frameMoveRects(buf []moveRect) (int, error) { return fakeRects(f, buf, f.held.moves) }
func (f *fakeDup) frameDirtyRects(buf []winRect) (int, error) { return fakeRects(f, buf, f.held.dirty) }

func (f *fakeDup) framePointerShape(buf []byte, si *pointerShapeInfo) (int, error) {
	if f.held == nil || f.held.shape == nil {
		return 0, errInvalidCall
	}
	if len(buf) < len(f.held.bits) {
		return len(f.held.bits), errMoreData
	}
	*si = *f.held.shape
	return copy(buf, f.held.bits), nil
}

func (f *fakeDup) copyFrame(dst []byte, stride int, rects []image.Rectangle) error {
	if f.held == nil {
		return errInvalidCall
	}
	for _, r := range rects {
		f.copied = append(f.copied, r)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X * 4; x < r.Max.X*4; x++ {
				dst[y*stride+x] = f.held.fill
			}
		}
	}
	return nil
}

func (f *fakeDup) releaseFrame() error {
	if f.held == nil {
		return errInvalidCall
	}
	f.held = nil
	return nil
}

func (f *fakeDup) close() { f.closed = true }

// presented is a frame with a new desktop image and these dirty rectangles.
func presented(fill byte, dirty ...winRect) fakeFrame {
	return fakeFrame{fill: fill, dirty: dirty, info: frameInfo{lastPresentTime: 1, accumulatedFrames: 1, totalMetadataSize: uint32(16 * len(dirty))}}
}

// opener hands out the given duplications, one set per call, and counts the calls.
type opener struct {
	sets  [][]*fakeDup
	at    []image.Rectangle // each duplication's bounds
	calls int
	err   error
}

func (o *opener) open() ([]*dupOutput, error) {
	o.calls++
	if o.err != nil {
		return nil, o.err
	}
	if len(o.sets) == 0 {
		return nil, errAccessDenied
	}
	set := o.sets[0]
	o.sets = o.sets[1:]
	outs := make([]*dupOutput, len(set))
	for i, d := range set {
		b := o.at[i]
		outs[i] = &dupOutput{dup: d, bounds: b, pix: make([]byte, b.Dx()*b.Dy()*4)}
	}
	return outs, nil
}

func waitOnce(t *testing.T, c *dxgiCapture) []image.Rectangle {
	t.Helper()
	rs, err := c.waitChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rs, func(a, b image.Rectangle) int { return a.Min.X - b.Min.X })
	return rs
}

// Two monitors side by side: the first frame of each is taken whole, later ones by their dirty
// and move rectangles, reported in virtual-screen coordinates and read back by capture.
func TestDXGICaptureFrames(t *testing.T) {
	left, right := image.Rect(-100, 0, 0, 50), image.Rect(0, 0, 200, 80)
	a := &fakeDup{frames: []fakeFrame{presented(1), presented(3, winRect{10, 10, 20, 20}, winRect{15, 15, 30, 30})}}
	b := &fakeDup{frames: []fakeFrame{presented(2)}, moreData: true}
	b.frames = append(b.frames, fakeFrame{fill: 4, info: frameInfo{lastPresentTime: 2, totalMetadataSize: 24},
		moves: []moveRect{{srcX: 0, srcY: 10, dst: winRect{0, 0, 50, 40}}}})
	o := &opener{sets: [][]*fakeDup{{a, b}}, at: []image.Rectangle{left, right}}
	c, err := newDXGICapture(o.open)
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 300, 80))
	if err := c.capture(dst, image.Rect(-100, 0, 200, 80)); !errors.Is(err, errNotFollowed) {
		t.Fatalf("capture before any frame = %v, want errNotFollowed (GDI then)", err)
	}
	if got := waitOnce(t, c); !slices.Equal(got, []image.Rectangle{left}) {
		t.Fatalf("first change %v, want the whole left monitor", got)
	}
	if got := waitOnce(t, c); !slices.Equal(got, []image.Rectangle{right}) {
		t.Fatalf("second change %v, want the whole right monitor", got)
	}
	if got := waitOnce(t, c); !slices.Equal(got, []image.Rectangle{image.Rect(-90, 10, -70, 30)}) {
		t.Fatalf("dirty change %v, want the two dirty rectangles merged, moved left by 100", got)
	}
	if got := waitOnce(t, c); !slices.Equal(got, []image.Rectangle{image.Rect(0, 0, 50, 40)}) {
		t.Fatalf("move change %v, want the move's destination", got)
	}
	if err := c.capture(dst, image.Rect(-100, 0, 200, 80)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		x, y int
		want uint8
	}{{0, 0, 1}, {15, 15, 3}, {29, 29, 3}, {30, 30, 1}, {100, 0, 4}, {149, 39, 4}, {150, 40, 2}, {0, 60, 0}} {
		if got := dst.RGBAAt(p.x, p.y); got.R != p.want || got.A != 0xff {
			t.Errorf("pixel (%d,%d) = %v, want R %d, opaque (black where no monitor is)", p.x, p.y, got, p.want)
		}
	}
	if a.held != nil || b.held != nil {
		t.Error("a frame is still held")
	}
	c.close()
	if !a.closed || !b.closed {
		t.Error("close left a duplication open")
	}
}

// A pointer-only frame changes no pixel: waitChange waits on, and the cursor follows the frame,
// its hotspot in virtual-screen coordinates; a shape that cannot be read keeps the last one;
// hiding it changes the serial.
func TestDXGICursor(t *testing.T) {
	mono := pointerShapeInfo{typ: shapeMonochrome, width: 8, height: 4, pitch: 1, hotX: 1, hotY: 1}
	moved := func(x, y int32, visible bool, shape *pointerShapeInfo) fakeFrame {
		f := fakeFrame{info: frameInfo{lastMouseUpdateTime: 1, pointerX: x, pointerY: y}}
		if visible {
			f.info.pointerVisible = 1
		}
		if shape != nil {
			f.shape, f.bits = shape, []byte{0x00, 0xff, 0x00, 0xff}
			f.info.pointerShapeBufferLen = 4
		}
		return f
	}
	bad := pointerShapeInfo{typ: 3, width: 8, height: 4, pitch: 1} // no such type: the last shape stays
	d := &fakeDup{frames: []fakeFrame{presented(9), moved(40, 30, true, &mono), moved(41, 31, true, &bad), presented(9, winRect{0, 0, 1, 1}), moved(41, 31, false, nil), presented(9, winRect{0, 0, 1, 1})}}
	o := &opener{sets: [][]*fakeDup{{d}}, at: []image.Rectangle{image.Rect(100, 0, 300, 200)}}
	c, err := newDXGICapture(o.open)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, _, _, err := c.cursor(); err == nil {
		t.Fatal("a cursor before any frame told of one")
	}
	waitOnce(t, c) // the first, whole frame
	waitOnce(t, c) // two pointer frames pass, then the dirty one returns
	x, y, shape, hx, hy, serial, err := c.cursor()
	if err != nil {
		t.Fatal(err)
	}
	if x != 142 || y != 32 || hx != 1 || hy != 1 || shape == nil || shape.Bounds() != image.Rect(0, 0, 8, 2) {
		t.Fatalf("cursor at (%d,%d) hot (%d,%d) shape %v, want (142,32) hot (1,1) 8×2", x, y, hx, hy, shape.Bounds())
	}
	waitOnce(t, c)
	_, _, hidden, _, _, serial2, err := c.cursor()
	if err != nil || hidden != nil || serial2 == serial {
		t.Fatalf("hidden cursor: shape %v serial %d→%d err %v, want no shape and a new serial", hidden, serial, serial2, err)
	}
}

// A lost duplication is made again; lost again and again without a frame, or not made again,
// waitChange gives up with the reason.
func TestDXGIRecreate(t *testing.T) {
	at := []image.Rectangle{image.Rect(0, 0, 10, 10)}
	first := &fakeDup{frames: []fakeFrame{presented(1), {err: errAccessLost}}}
	second := &fakeDup{frames: []fakeFrame{presented(2)}}
	o := &opener{sets: [][]*fakeDup{{first}, {second}}, at: at}
	c, err := newDXGICapture(o.open)
	if err != nil {
		t.Fatal(err)
	}
	waitOnce(t, c)
	if got := waitOnce(t, c); !slices.Equal(got, at) || o.calls != 2 || !first.closed {
		t.Fatalf("after ACCESS_LOST: change %v, %d opens, old closed %v; want the new frame whole, 2 opens, closed", got, o.calls, first.closed)
	}

	// Made again, lost again: given up after maxRecreate.
	var sets [][]*fakeDup
	for range maxRecreate + 2 {
		sets = append(sets, []*fakeDup{{frames: []fakeFrame{{err: errAccessLost}}}})
	}
	o = &opener{sets: sets, at: at}
	c, _ = newDXGICapture(o.open)
	if _, err := c.waitChange(context.Background()); !errors.Is(err, errAccessLost) || o.calls != maxRecreate+1 {
		t.Fatalf("lost every time: %v after %d opens, want ACCESS_LOST after %d", err, o.calls, maxRecreate+1)
	}

	// The secure desktop: DuplicateOutput is refused.
	o = &opener{sets: [][]*fakeDup{{{frames: []fakeFrame{{err: errAccessLost}}}}}, at: at}
	c, _ = newDXGICapture(o.open)
	_, err = c.waitChange(context.Background())
	if !errors.Is(err, errAccessDenied) || !strings.Contains(err.Error(), "DXGI_ERROR_ACCESS_LOST") {
		t.Fatalf("not made again: %v, want E_ACCESSDENIED and the loss", err)
	}
}

func TestDXGIWaitEndsWithContext(t *testing.T) {
	d := &fakeDup{frames: []fakeFrame{presented(1)}}
	c, _ := newDXGICapture((&opener{sets: [][]*fakeDup{{d}}, at: []image.Rectangle{image.Rect(0, 0, 4, 4)}}).open)
	waitOnce(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.waitChange(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("waitChange with a cancelled context: %v", err)
	}
	if err := c.capture(image.NewRGBA(image.Rect(0, 0, 4, 4)), image.Rect(0, 0, 4, 4)); !errors.Is(err, errNotFollowed) {
		t.Fatalf("capture after the waiter left = %v, want errNotFollowed: the image is no longer followed", err)
	}
}

// The choice between duplication and GDI, and the fall back when duplication ends.
func TestScreenCaptureChoice(t *testing.T) {
	gdiCalls := 0
	gdi := func(dst *image.RGBA, r image.Rectangle) error {
		gdiCalls++
		return nil
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	dst := image.NewRGBA(image.Rect(0, 0, 10, 10))
	at := []image.Rectangle{image.Rect(0, 0, 10, 10)}

	// Wine 8.0: DuplicateOutput is not implemented.
	s := newScreenCapture((&opener{err: errNotImplemented}).open, gdi, log)
	if !strings.Contains(logs.String(), `msg="screen capture: GDI BitBlt, polled" reason="E_NOTIMPL (0x80004001)"`) {
		t.Fatalf("the choice of GDI was logged as:\n%s", logs.String())
	}
	if _, err := s.waitChange(context.Background()); !errors.Is(err, errNoChanges) || !errors.Is(err, errNotImplemented) {
		t.Fatalf("waitChange on GDI = %v, want errNoChanges with the reason", err)
	}
	if s.capture(dst, at[0]); gdiCalls != 1 {
		t.Fatal("capture did not use GDI")
	}

	// Duplication works, then is lost for good: GDI, and duplication is tried again when a
	// waiter comes back.
	logs.Reset()
	works := &fakeDup{frames: []fakeFrame{presented(7), {err: errSessionDisconn}}}
	again := &fakeDup{frames: []fakeFrame{presented(8)}}
	o := &opener{sets: [][]*fakeDup{{works}, {again}}, at: at}
	s = newScreenCapture(o.open, gdi, log)
	if !strings.Contains(logs.String(), `msg="screen capture: DXGI desktop duplication" outputs=1`) {
		t.Fatalf("the choice of duplication was logged as:\n%s", logs.String())
	}
	gdiCalls = 0
	s.capture(dst, at[0]) // no frame yet
	if _, err := s.waitChange(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.capture(dst, at[0])
	if gdiCalls != 1 || dst.RGBAAt(0, 0) != (color.RGBA{7, 7, 7, 0xff}) {
		t.Fatalf("GDI captured %d times, pixel %v; want once (before the first frame), then the frame", gdiCalls, dst.RGBAAt(0, 0))
	}
	if _, err := s.waitChange(context.Background()); !errors.Is(err, errSessionDisconn) {
		t.Fatalf("waitChange when duplication ends = %v", err)
	}
	if s.capture(dst, at[0]); gdiCalls != 2 || !works.closed || !strings.Contains(logs.String(), "desktop duplication ended; GDI BitBlt") {
		t.Fatalf("after the end: %d GDI captures, closed %v, log:\n%s", gdiCalls, works.closed, logs.String())
	}
	if _, err := s.waitChange(context.Background()); err != nil || o.calls != 2 {
		t.Fatalf("the next waiter: %v after %d opens, want duplication made again", err, o.calls)
	}
	if s.capture(dst, at[0]); gdiCalls != 2 || dst.RGBAAt(0, 0).R != 8 {
		t.Fatal("capture is not the new duplication's")
	}
	if _, _, _, _, _, _, err := newScreenCapture((&opener{err: errUnsupported}).open, gdi, log).cursor(); err == nil {
		t.Fatal("a cursor without duplication")
	}
}
