package windesktop

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"sync"

	"github.com/kbinani/screenshot"

	"github.com/assistkit/assist/rdp"
)

// Desktop is the interactive Windows desktop of the session the agent runs in.
type Desktop struct {
	log    *slog.Logger
	gdi    *gdiCapture
	screen *screenCapture
	keys   *keyboard

	mu      sync.Mutex // the pointer's state
	buttons uint8

	closeOnce sync.Once
}

// Open prepares capture and input. It makes the process DPI-aware first, so that capture,
// monitor bounds and pointer coordinates are all physical pixels on a scaled display.
func Open(logger *slog.Logger) (*Desktop, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	setDPIAware()
	g, err := newGDICapture()
	if err != nil {
		return nil, err
	}
	d := &Desktop{log: logger, gdi: g}
	d.screen = newScreenCapture(d.duplicate, g.capture, logger)
	d.screen.gdiCursor = (&gdiCursor{}).cursor
	d.keys = newKeyboard(systemLayout{}, sendKeys)
	return d, nil
}

// setDPIAware asks for per-monitor awareness (Windows 10 1703 and later), or system awareness
// on older systems and Wine.
func setDPIAware() {
	const perMonitorAwareV2 = ^uintptr(3) // DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, (HANDLE)-4
	if procSetDpiAwarenessContext.Find() == nil {
		if r, _, _ := procSetDpiAwarenessContext.Call(perMonitorAwareV2); r != 0 {
			return
		}
	}
	if procSetProcessDPIAware.Find() == nil {
		procSetProcessDPIAware.Call()
	}
}

// Monitors returns every active display with its place in the virtual screen, whose origin is
// the primary monitor's top-left corner: so the primary one is the monitor at (0,0).
func (d *Desktop) Monitors() ([]rdp.Monitor, error) {
	n := screenshot.NumActiveDisplays()
	if n == 0 {
		return nil, fmt.Errorf("windesktop: no active display")
	}
	ms := make([]rdp.Monitor, 0, n)
	for i := range n {
		b := screenshot.GetDisplayBounds(i)
		ms = append(ms, rdp.Monitor{X: b.Min.X, Y: b.Min.Y, W: b.Dx(), H: b.Dy(), Name: fmt.Sprintf("DISPLAY%d", i+1), Primary: image.Pt(0, 0).In(b)})
	}
	return ms, nil
}

// duplicate makes the DXGI duplications of the current layout.
func (d *Desktop) duplicate() ([]*dupOutput, error) {
	ms, err := d.Monitors()
	if err != nil {
		return nil, err
	}
	rs := make([]image.Rectangle, len(ms))
	for i, m := range ms {
		rs[i] = m.Bounds()
	}
	return openDuplications(rs)
}

// Capture copies r of the virtual screen into dst: from the last duplicated frame while
// duplication runs, else with GDI. On the secure desktop it fails with ErrSecureDesktop.
func (d *Desktop) Capture(dst *image.RGBA, r image.Rectangle) error {
	if err := checkInputDesktop(); err != nil {
		return err
	}
	return d.screen.capture(dst, r)
}

// WaitChange blocks until part of the screen changed (duplication's dirty and move
// rectangles). Capturing with GDI it fails at once, and the framebuffer side polls.
func (d *Desktop) WaitChange(ctx context.Context) ([]image.Rectangle, error) {
	return d.screen.waitChange(ctx)
}

// Cursor returns the pointer: as duplication saw it, or from GetCursorInfo under GDI. The
// serial changes with the shape; the position is the hotspot's.
func (d *Desktop) Cursor() (x, y int, shape *image.RGBA, hotX, hotY int, serial uint64, err error) {
	return d.screen.cursor()
}

// Close lets go of held input and frees the capture's buffers.
func (d *Desktop) Close() error {
	d.closeOnce.Do(func() {
		d.ReleaseInput()
		d.screen.close()
		d.gdi.close()
	})
	return nil
}

// The capabilities the framebuffer and input sides find by type assertion.
var (
	_ rdp.Screen          = (*Desktop)(nil)
	_ rdp.Injector        = (*Desktop)(nil)
	_ rdp.Clipboard       = (*Desktop)(nil)
	_ rdp.SecureAttention = (*Desktop)(nil)
	_ rdp.ChangeWaiter    = (*Desktop)(nil)
	_ rdp.CursorSource    = (*Desktop)(nil)
)
