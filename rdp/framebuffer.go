package rdp

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// FramebufferOptions tune ServeFramebuffer. The zero value is ready to use.
type FramebufferOptions struct {
	Logger *slog.Logger
	// PollInterval is how often the screen is captured to look for changes when it does not
	// implement ChangeWaiter (or its WaitChange failed). Default 30 ms.
	PollInterval time.Duration
	// CursorInterval is how often a CursorSource is asked where the pointer is. Default 15 ms.
	CursorInterval time.Duration
	// LayoutInterval is how often the monitor layout is read again. Default 1 s.
	LayoutInterval time.Duration
}

func (o *FramebufferOptions) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Millisecond
	}
	if o.CursorInterval <= 0 {
		o.CursorInterval = 15 * time.Millisecond
	}
	if o.LayoutInterval <= 0 {
		o.LayoutInterval = time.Second
	}
}

// maxPending bounds the update requests a viewer may have outstanding.
const maxPending = 16

// damageCap bounds the change rectangles kept while no request is pending; beyond it they
// collapse into their bounding box.
const damageCap = 64

// ServeFramebuffer serves the agent's side of the framebuffer channel until the viewer closes
// it (nil), ctx ends, or an error. It announces the monitor layout, then answers each update
// request of the viewer with the rectangles that changed since the viewer's last update.
//
// rw is the channel. If it has Close (and CloseWrite), ServeFramebuffer calls them when it
// returns and when ctx ends, which is what unblocks a pending read or write.
func ServeFramebuffer(ctx context.Context, rw io.ReadWriter, screen Screen, opts FramebufferOptions) error {
	opts.defaults()
	c := newConn(rw)
	defer c.close()
	stop := context.AfterFunc(ctx, c.close)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	s := &fbServer{c: c, screen: screen, opts: opts, log: opts.Logger,
		reqs: make(chan wire.UpdateRequest, maxPending), damageSig: make(chan struct{}, 1)}
	s.waiter, _ = screen.(ChangeWaiter)
	s.cursorSrc, _ = screen.(CursorSource)
	err := s.start()
	if err == nil {
		go s.readLoop(cancel)
		if s.waiter != nil {
			s.waiterDone = make(chan struct{})
			go s.waitLoop(ctx)
		}
		err = s.run(ctx)
	}
	return s.finish(err)
}

type fbServer struct {
	c         *conn
	screen    Screen
	waiter    ChangeWaiter
	cursorSrc CursorSource
	opts      FramebufferOptions
	log       *slog.Logger
	caps      uint64

	monitors []Monitor
	bounds   image.Rectangle
	enc      *encoder
	cur      *image.RGBA
	areas    []image.Rectangle
	out      []byte
	layout   wire.Layout

	reqs    chan wire.UpdateRequest
	pending int
	asked   image.Rectangle // the region the viewer asked for; empty: the whole screen
	region  image.Rectangle // asked, clipped to the screen
	seq     uint64

	damageMu   sync.Mutex
	damage     []image.Rectangle
	damageSig  chan struct{}
	waiterDone chan struct{} // closed when WaitChange failed: fall back to polling

	pollDue, cursorDue, layoutDue bool
	layoutChanged                 bool // announce s.layout in the next update
	cursor                        cursorState
	shape                         wire.CursorShape
}

type cursorState struct {
	sent   bool
	x, y   int
	serial uint64
}

// start does the handshake and announces the layout.
func (s *fbServer) start() error {
	ours := uint64(wire.CapSolid | wire.CapZstd | wire.CapCopy | wire.CapPalette)
	if s.cursorSrc != nil {
		ours |= wire.CapCursor
	}
	peer, err := s.c.handshake(wire.KindFramebuffer, ours, false)
	if err != nil {
		return err
	}
	s.caps = ours & peer.Caps
	if _, err := s.checkLayout(); err != nil {
		return err
	}
	s.out = wire.Append(s.out[:0], &s.layout)
	if err := s.c.writeRaw(s.out); err != nil {
		return fmt.Errorf("rdp: send layout: %w", err)
	}
	s.log.Debug("framebuffer channel open", "version", min(peer.Version, wire.Version), "caps", s.caps, "screen", s.bounds)
	return nil
}

// finish turns the loop's end into ServeFramebuffer's result, telling the viewer why when the
// fault was its own.
func (s *fbServer) finish(err error) error {
	var pe *protocolError
	switch {
	case err == nil, errors.Is(err, errPeerClosed):
		return nil
	case errors.As(err, &pe):
		s.c.sendClose(wire.CloseProtocol, pe.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		var re *RemoteError
		if !errors.As(err, &re) {
			s.c.sendClose(wire.CloseInternal, err.Error())
		}
	}
	return err
}

func (s *fbServer) readLoop(cancel context.CancelCauseFunc) {
	for {
		m, err := s.c.read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errPeerClosed
			}
			cancel(err)
			return
		}
		switch m := m.(type) {
		case *wire.UpdateRequest:
			select {
			case s.reqs <- *m:
			default:
				cancel(protocolErrorf("viewer has more than %d update requests in flight", maxPending))
				return
			}
		case *wire.Close:
			s.log.Debug("viewer closed the framebuffer channel", "reason", m.Reason)
			cancel(errPeerClosed)
			return
		default:
			cancel(protocolErrorf("unexpected %s message on the framebuffer channel", m.Type()))
			return
		}
	}
}

// waitLoop collects change rectangles from the ChangeWaiter for the main loop.
func (s *fbServer) waitLoop(ctx context.Context) {
	for {
		rects, err := s.waiter.WaitChange(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("change notification failed; polling the screen instead", "err", err)
			close(s.waiterDone)
			return
		}
		s.damageMu.Lock()
		s.damage = append(s.damage, rects...)
		if len(s.damage) > damageCap {
			u := s.damage[0]
			for _, r := range s.damage[1:] {
				u = u.Union(r)
			}
			s.damage = append(s.damage[:0], u)
		}
		s.damageMu.Unlock()
		select {
		case s.damageSig <- struct{}{}:
		default:
		}
	}
}

func (s *fbServer) run(ctx context.Context) error {
	var pollC, cursorC <-chan time.Time
	newTicker := func(d time.Duration) <-chan time.Time {
		t := time.NewTicker(d)
		context.AfterFunc(ctx, t.Stop)
		return t.C
	}
	if s.waiter == nil {
		pollC = newTicker(s.opts.PollInterval)
	}
	if s.cursorSrc != nil && s.caps&wire.CapCursor != 0 {
		cursorC = newTicker(s.opts.CursorInterval)
	}
	layoutC := newTicker(s.opts.LayoutInterval)
	for {
		if s.pending > 0 {
			if err := s.answer(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case req := <-s.reqs:
			if err := s.accept(req); err != nil {
				return err
			}
		case <-s.damageSig:
		case <-s.waiterDone:
			s.waiterDone, s.waiter = nil, nil
			pollC = newTicker(s.opts.PollInterval)
			s.pollDue = true
		case <-pollC:
			s.pollDue = true
		case <-cursorC:
			s.cursorDue = true
		case <-layoutC:
			s.layoutDue = true
		}
	}
}

func (s *fbServer) accept(req wire.UpdateRequest) error {
	if s.pending >= maxPending {
		return protocolErrorf("viewer has more than %d update requests in flight", maxPending)
	}
	s.pending++
	s.asked = image.Rect(int(req.X), int(req.Y), int(req.X)+int(req.W), int(req.Y)+int(req.H))
	if r := s.clipRegion(); r != s.region {
		// Parts of the new region may have changed unseen while outside the old one.
		s.region = r
		s.enc.markChanged(r)
	}
	if !req.Incremental {
		s.enc.forceAll(s.region)
	}
	return nil
}

func (s *fbServer) clipRegion() image.Rectangle {
	if r := s.asked.Intersect(s.bounds); !r.Empty() {
		return r
	}
	return s.bounds
}

// answer sends one update if anything changed for the viewer: pixels in the region, the
// cursor, or the layout.
func (s *fbServer) answer() error {
	out := s.out[:0]
	if s.layoutDue {
		s.layoutDue = false
		if _, err := s.checkLayout(); err != nil {
			return err
		}
	}
	if s.layoutChanged {
		s.layoutChanged = false
		out = wire.Append(out, &s.layout)
	}
	s.takeDamage()
	out = s.appendCursor(out)
	if s.enc.pending(s.region) {
		s.areas = s.enc.captureAreas(s.areas[:0], s.region)
		for _, a := range s.areas {
			if err := s.screen.Capture(subImage(s.cur, a), a); err != nil {
				// A monitor may have gone: look at the layout before giving up. The next
				// answer then announces it.
				if changed, lerr := s.checkLayout(); lerr == nil && changed {
					return nil
				}
				return fmt.Errorf("rdp: capture %v: %w", a, err)
			}
		}
		out = s.enc.encode(s.cur, s.region, out)
	}
	if len(out) == 0 {
		return nil
	}
	s.seq++
	out = wire.Append(out, &wire.UpdateEnd{Seq: s.seq})
	s.out = out
	if err := s.c.writeRaw(out); err != nil {
		return fmt.Errorf("rdp: send update: %w", err)
	}
	s.pending--
	return nil
}

// takeDamage marks what may have changed: the ChangeWaiter's rectangles, or the whole region
// when a poll is due.
func (s *fbServer) takeDamage() {
	if s.waiter == nil {
		if s.pollDue {
			s.pollDue = false
			s.enc.markChanged(s.region)
		}
		return
	}
	s.damageMu.Lock()
	for _, r := range s.damage {
		s.enc.markChanged(r)
	}
	s.damage = s.damage[:0]
	s.damageMu.Unlock()
}

// checkLayout reads the monitors; on a change it resets the encoder so the viewer gets the new
// screen whole.
func (s *fbServer) checkLayout() (bool, error) {
	mons, err := s.screen.Monitors()
	if err != nil {
		return false, fmt.Errorf("rdp: read monitor layout: %w", err)
	}
	if s.enc != nil && slices.Equal(mons, s.monitors) {
		return false, nil
	}
	l := wire.Layout{Format: wire.FormatRGB24}
	var bounds image.Rectangle
	for _, m := range mons {
		name := m.Name
		if len(name) > wire.MaxName {
			name = name[:wire.MaxName]
		}
		l.Monitors = append(l.Monitors, wire.Monitor{X: int32(m.X), Y: int32(m.Y), W: uint16(m.W), H: uint16(m.H), Primary: m.Primary, Name: name})
		bounds = bounds.Union(m.Bounds())
		if m.W <= 0 || m.H <= 0 || m.W > wire.MaxScreen || m.H > wire.MaxScreen || abs(m.X) > wire.MaxCoord || abs(m.Y) > wire.MaxCoord {
			return false, fmt.Errorf("rdp: monitor %q at %v is outside the protocol's limits", m.Name, m.Bounds())
		}
	}
	if len(mons) == 0 || len(mons) > wire.MaxMonitors {
		return false, fmt.Errorf("rdp: %d monitors; the protocol carries 1 to %d", len(mons), wire.MaxMonitors)
	}
	if bounds.Dx() > wire.MaxScreen || bounds.Dy() > wire.MaxScreen {
		return false, fmt.Errorf("rdp: virtual screen %dx%d over the limit of %d", bounds.Dx(), bounds.Dy(), wire.MaxScreen)
	}
	changed := s.enc != nil
	s.monitors, s.layout, s.bounds = slices.Clone(mons), l, bounds
	if s.enc == nil {
		s.enc = newEncoder(bounds, s.caps)
	} else {
		s.enc.reset(bounds)
	}
	s.cur = image.NewRGBA(bounds)
	s.region = s.clipRegion()
	s.enc.forceAll(s.region) // the viewer starts the new screen black
	s.cursor = cursorState{}
	s.layoutChanged = changed
	if changed {
		s.log.Info("screen layout changed", "screen", bounds, "monitors", len(mons))
	}
	return changed, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
