package windesktop

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
)

// screenCapture is the Desktop's capture: DXGI desktop duplication while it works, GDI
// otherwise. Duplication is chosen when it can be made at start; when a working duplication is
// lost and cannot be made again (the secure desktop, for one), capture falls back to GDI and
// duplication is tried again when the next framebuffer session starts waiting for changes.
type screenCapture struct {
	log  *slog.Logger
	open func() ([]*dupOutput, error)                   // makes the duplications
	gdi  func(dst *image.RGBA, r image.Rectangle) error // the fallback
	// gdiCursor is the pointer while capture is GDI's (GetCursorInfo).
	gdiCursor func() (x, y int, shape *image.RGBA, hotX, hotY int, serial uint64, err error)

	mu   sync.Mutex
	dxgi *dxgiCapture // nil: GDI
	why  error        // why GDI
	lost bool         // duplication worked and was lost: worth trying again
}

func newScreenCapture(open func() ([]*dupOutput, error), gdi func(*image.RGBA, image.Rectangle) error, log *slog.Logger) *screenCapture {
	s := &screenCapture{log: log, open: open, gdi: gdi}
	c, err := newDXGICapture(open)
	if err != nil {
		s.why = err
		log.Info("screen capture: GDI BitBlt, polled", "reason", err)
		return s
	}
	s.dxgi = c
	log.Info("screen capture: DXGI desktop duplication", "outputs", len(c.outs))
	return s
}

// errNoChanges is WaitChange's error while capturing with GDI, which says nothing of changes:
// the framebuffer side then polls.
var errNoChanges = errors.New("windesktop: GDI capture tells no changes")

func (s *screenCapture) current() *dxgiCapture {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dxgi
}

// capture reads r from the duplicated images while they are followed, else with GDI.
func (s *screenCapture) capture(dst *image.RGBA, r image.Rectangle) error {
	if c := s.current(); c != nil && c.capture(dst, r) == nil {
		return nil
	}
	return s.gdi(dst, r)
}

// waitChange waits for the duplication's next change. The error of a duplication that ended
// is returned once, after which capture is GDI's.
func (s *screenCapture) waitChange(ctx context.Context) ([]image.Rectangle, error) {
	c, err := s.duplication()
	if err != nil {
		return nil, err
	}
	rs, err := c.waitChange(ctx)
	if err != nil && ctx.Err() == nil {
		s.fallBack(c, err)
	}
	return rs, err
}

// duplication returns the working duplication, making it again first if it was lost.
func (s *screenCapture) duplication() (*dxgiCapture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dxgi == nil && s.lost {
		c, err := newDXGICapture(s.open)
		if err != nil {
			s.why = err
			return nil, fmt.Errorf("%w: desktop duplication is still unavailable: %w", errNoChanges, err)
		}
		s.dxgi, s.lost = c, false
		s.log.Info("screen capture: DXGI desktop duplication again", "outputs", len(c.outs))
	}
	if s.dxgi == nil {
		return nil, fmt.Errorf("%w: %w", errNoChanges, s.why)
	}
	return s.dxgi, nil
}

func (s *screenCapture) fallBack(c *dxgiCapture, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dxgi != c {
		return
	}
	c.close()
	s.dxgi, s.why, s.lost = nil, err, true
	s.log.Warn("screen capture: desktop duplication ended; GDI BitBlt, polled", "err", err)
}

func (s *screenCapture) cursor() (x, y int, shape *image.RGBA, hotX, hotY int, serial uint64, err error) {
	if c := s.current(); c != nil {
		return c.cursor()
	}
	if s.gdiCursor == nil {
		return 0, 0, nil, 0, 0, 0, errors.New("windesktop: no pointer without desktop duplication")
	}
	return s.gdiCursor()
}

func (s *screenCapture) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dxgi != nil {
		s.dxgi.close()
		s.dxgi = nil
	}
}
