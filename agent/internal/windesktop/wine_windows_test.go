package windesktop

import (
	"context"
	"net"
	"unsafe"

	"time"

	"github.com/assistkit/assist/rdp"

	"bytes"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/assistkit/assist/agent/internal/bgrx"
)

// These tests run on Windows, or under Wine from wine_test.go, which checks what they write
// into $ASSIST_WINE_OUT against the X server.

func wineOut(t *testing.T) string {
	dir := os.Getenv("ASSIST_WINE_OUT")
	if dir == "" {
		t.Skip("ASSIST_WINE_OUT is not set: run through wine_test.go")
	}
	return dir
}

func TestWineCapture(t *testing.T) {
	dir := wineOut(t)
	var logs bytes.Buffer
	d, err := Open(slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t.Logf("log: %s", strings.TrimSpace(logs.String())) // which capture, and why
	ms, err := d.Monitors()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("monitors: %+v", ms)
	var v image.Rectangle
	for _, m := range ms {
		v = v.Union(m.Bounds())
	}
	img := image.NewRGBA(image.Rect(0, 0, v.Dx(), v.Dy()))
	if err := d.Capture(img, v); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "capture.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkGDICapture captures the whole virtual screen per frame. Under Wine it measures
// Wine's GDI on Xvfb, not Windows.
func BenchmarkGDICapture(b *testing.B) {
	d, err := Open(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	v := virtualScreen()
	img := image.NewRGBA(image.Rect(0, 0, v.Dx(), v.Dy()))
	b.Run(fmt.Sprintf("%dx%d", v.Dx(), v.Dy()), func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU(b)
		for b.Loop() {
			if err := d.Capture(img, v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/frame")
	})
}

// processCPU is the processor time this process used so far, user and kernel.
func processCPU(b *testing.B) time.Duration {
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &created, &exited, &kernel, &user); err != nil {
		b.Fatal(err)
	}
	ft := func(f windows.Filetime) time.Duration {
		return time.Duration(uint64(f.HighDateTime)<<32|uint64(f.LowDateTime)) * 100
	}
	return ft(kernel) + ft(user)
}

// BenchmarkGDIParts times each call a GDI capture makes, to see where a frame's time goes.
func BenchmarkGDIParts(b *testing.B) {
	g, err := newGDICapture()
	if err != nil {
		b.Fatal(err)
	}
	defer g.close()
	v := virtualScreen()
	if err := g.ensure(v.Dx(), v.Dy()); err != nil {
		b.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, v.Dx(), v.Dy()))
	b.Run("InputDesktop", func(b *testing.B) {
		for b.Loop() {
			checkInputDesktop()
		}
	})
	b.Run("GetDC", func(b *testing.B) {
		for b.Loop() {
			s, _, _ := procGetDC.Call(0)
			procReleaseDC.Call(0, s)
		}
	})
	screen, _, _ := procGetDC.Call(0)
	defer procReleaseDC.Call(0, screen)
	for _, h := range []int{v.Dy(), 64} {
		b.Run(fmt.Sprintf("BitBlt%dx%d", v.Dx(), h), func(b *testing.B) {
			for b.Loop() {
				procBitBlt.Call(g.mem, 0, 0, uintptr(v.Dx()), uintptr(h), screen, 0, 0, srcCopy)
				procGdiFlush.Call()
			}
		})
	}
	b.Run("convert", func(b *testing.B) {
		for b.Loop() {
			for y := range v.Dy() {
				bgrx.ToRGBA(img.Pix[y*img.Stride:], g.bits[y*g.w*4:], v.Dx())
			}
		}
	})
}

// TestWineModeChange changes the display mode mid-session, as a person changing the resolution
// would: the framebuffer side announces the new layout and goes on serving the new screen.
// Run through wine_test.go inside a Wine virtual desktop, whose size Wine lets a program change.
func TestWineModeChange(t *testing.T) {
	wineOut(t)
	var logs bytes.Buffer
	d, err := Open(slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	before, err := d.Monitors()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("monitors before: %+v", before)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	agentEnd, viewerEnd := net.Pipe() // the framebuffer stream, as the SSH channel would carry it
	served := make(chan error, 1)
	go func() {
		served <- rdp.ServeFramebuffer(ctx, agentEnd, d, rdp.FramebufferOptions{LayoutInterval: 100 * time.Millisecond})
	}()
	c, err := rdp.NewFramebufferClient(viewerEnd, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Next(ctx); err != nil {
		t.Fatal(err)
	}
	// Larger than the capture's buffers, then smaller.
	for _, want := range []image.Rectangle{image.Rect(0, 0, 1024, 768), image.Rect(0, 0, 640, 480)} {
		if err := changeMode(want.Dx(), want.Dy()); err != nil {
			t.Fatal(err)
		}
		var u rdp.Update
		for u.Layout == nil {
			if u, err = c.Next(ctx); err != nil {
				t.Fatalf("waiting for the layout of %v: %v\nagent log:\n%s", want, err, logs.String())
			}
		}
		t.Logf("new layout: %+v", u.Layout)
		if c.Bounds() != want {
			t.Fatalf("the new layout is %v, want %v", c.Bounds(), want)
		}
		// The update that announces it carries the new screen whole, captured at its new size.
		area := 0
		for _, r := range u.Rects {
			area += r.W * r.H
		}
		if area != want.Dx()*want.Dy() {
			t.Fatalf("the update of the new layout covers %d pixels, want the whole %v", area, want)
		}
	}
	select {
	case err := <-served:
		t.Fatalf("the framebuffer side ended: %v", err)
	default:
	}
}

// changeMode sets the primary display's resolution (ChangeDisplaySettingsExW).
func changeMode(w, h int) error {
	const dmPelsWidth, dmPelsHeight = 0x80000, 0x100000
	var dm devMode
	dm.size = uint16(unsafe.Sizeof(dm))
	dm.fields = dmPelsWidth | dmPelsHeight
	dm.pelsWidth, dm.pelsHeight = uint32(w), uint32(h)
	r, _, _ := user32.NewProc("ChangeDisplaySettingsExW").Call(0, uintptr(unsafe.Pointer(&dm)), 0, 0, 0)
	if r != 0 {
		return fmt.Errorf("ChangeDisplaySettingsExW %dx%d: DISP_CHANGE %d", w, h, int32(r))
	}
	return nil
}

// devMode is DEVMODEW as a display's settings use it.
type devMode struct {
	deviceName                  [32]uint16
	specVersion, driverVersion  uint16
	size, driverExtra           uint16
	fields                      uint32
	positionX, positionY        int32
	orientation, fixedOutput    uint32
	color, duplex, yRes, tt, co int16
	formName                    [32]uint16
	logPixels                   uint16
	bitsPerPel                  uint32
	pelsWidth, pelsHeight       uint32
	displayFlags, frequency     uint32
	icm                         [6]uint32
	panningWidth, panningHeight uint32
}

// TestWineCursor: under GDI the pointer comes from GetCursorInfo, its shape from the cursor's
// bitmaps, with a serial that stays while the cursor does.
func TestWineCursor(t *testing.T) {
	wineOut(t)
	d, err := Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if r, _, err := user32.NewProc("SetCursorPos").Call(100, 120); r == 0 {
		t.Fatal(err)
	}
	x, y, shape, hx, hy, serial, err := d.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	if x != 100 || y != 120 || shape == nil || shape.Bounds().Empty() {
		ci := cursorInfo{size: uint32(unsafe.Sizeof(cursorInfo{}))}
		procGetCursorInfo.Call(uintptr(unsafe.Pointer(&ci)))
		_, _, _, err := cursorShape(ci.cursor)
		t.Fatalf("cursor at (%d,%d) shape %v, want at (100,120) with a shape; GetCursorInfo %+v, its shape: %v", x, y, shape, ci, err)
	}
	t.Logf("cursor at (%d,%d), shape %v, hotspot (%d,%d), serial %d", x, y, shape.Bounds(), hx, hy, serial)
	opaque, clear := 0, 0
	for i := 3; i < len(shape.Pix); i += 4 {
		switch shape.Pix[i] {
		case 0xff:
			opaque++
		case 0:
			clear++
		}
	}
	if opaque == 0 || clear == 0 {
		t.Fatalf("the shape has %d opaque and %d clear pixels: not an arrow", opaque, clear)
	}
	// Right after the move the cursor may still change hands (Wine reports this process's own
	// cursor first, then the desktop's); then the serial must hold, or the shape would be sent
	// at every poll.
	same := 0
	for i := 0; i < 200 && same < 20; i++ {
		_, _, _, _, _, again, _ := d.Cursor()
		if same++; again != serial {
			serial, same = again, 0
		}
	}
	if same < 20 {
		t.Fatalf("the cursor's serial never held for 20 reads in 200 (now %d)", serial)
	}
	if dir := os.Getenv("ASSIST_WINE_OUT"); dir != "" {
		f, err := os.Create(filepath.Join(dir, "cursor.png"))
		if err == nil {
			png.Encode(f, shape)
			f.Close()
		}
	}
}
