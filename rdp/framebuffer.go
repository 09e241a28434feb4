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
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

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
	// KeyBatchRatio and KeyBatchMin set when a key batch is due, for a viewer that asks for
	// them (CapKeyBatch): once the messages since the last one add up to KeyBatchRatio times
	// what it took on the wire (20), and KeyBatchMin after it (2 s). Key batches then cost
	// about 1/KeyBatchRatio of the stream, and a player seeking from one catches up on at most
	// that many of its sizes.
	KeyBatchRatio int
	KeyBatchMin   time.Duration
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
	if o.KeyBatchRatio <= 0 {
		o.KeyBatchRatio = 20
	}
	if o.KeyBatchMin <= 0 {
		o.KeyBatchMin = 2 * time.Second
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
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	s := &fbServer{c: c, screen: screen, opts: opts, log: opts.Logger,
		reqs: make(chan wire.UpdateRequest, maxPending), damageSig: make(chan struct{}, 1), ackSig: make(chan struct{}, 1)}
	s.recordSent = s.onSent
	s.waiter, _ = screen.(ChangeWaiter)
	s.grabber, _ = screen.(Grabber)
	s.cursorSrc, _ = screen.(CursorSource)
	err := s.start()
	if err == nil {
		go s.readLoop(cancel)
		if s.waiter != nil {
			// The screen outlives the session (the agent serves the next viewer from it), so
			// the wait for its changes ends before ServeFramebuffer returns: a WaitChange still
			// running would take the next session's change rectangles and drop them.
			s.waiterDone = make(chan struct{})
			waited := make(chan struct{})
			go func() { s.waitLoop(ctx); close(waited) }()
			defer func() { <-waited }()
			defer cancel(nil)
		}
		err = s.run(ctx)
	}
	if parent.Err() != nil {
		// The caller ended the session: that is why, not the closed connection the read
		// loop may have reported first (closing it is how the end reaches the read loop).
		err = context.Cause(parent)
	}
	err = s.finish(err)
	s.release()
	return err
}

// release lets go of what the session holds once it has ended: the mirror of the viewer's image
// and the capture (8 MiB each at 1080p) and the stream's zstd window (16 MiB). The agent hands
// memory back to the system when ServeFramebuffer returns, and the read loop, which may still be
// on its way out (or waiting on a channel that does not close), keeps s reachable until it ends;
// it uses none of these.
func (s *fbServer) release() {
	s.enc, s.cur, s.out, s.areas, s.capDst = nil, nil, nil, nil, image.RGBA{}
	s.c.dropWriteStream()
}

type fbServer struct {
	c         *conn
	screen    Screen
	waiter    ChangeWaiter
	grabber   Grabber
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
	// Reused each update, so that answering allocates nothing (pointers to them would escape
	// into the Screen and wire.Append).
	capDst image.RGBA
	end    wire.UpdateEnd

	reqs    chan wire.UpdateRequest
	pending int

	// Pacing (version 3): the read loop takes the acks, the main loop sends.
	paced      bool
	paceMu     sync.Mutex
	pace       pacer
	ackSig     chan struct{}
	recordSent func(n int)   // onSent, made once: a method value made per update would allocate
	quality    atomic.Uint32 // the viewer's Quality (version 3)
	refineT    *time.Timer   // wakes the main loop when lossy pixels are due for refinement

	asked  image.Rectangle // the region the viewer asked for; empty: the whole screen
	region image.Rectangle // asked, clipped to the screen
	seq    uint64

	damageMu   sync.Mutex
	damage     []image.Rectangle
	damageSig  chan struct{}
	waiterDone chan struct{} // closed when WaitChange failed: fall back to polling

	// Key batches (CapKeyBatch): when the next one is due, counted in the bytes on the wire
	// since the last one against what it took.
	keyBatches bool
	restarts   bool              // the stream may start a new frame at another level (version 3)
	level      zstd.EncoderLevel // the stream's zstd level
	sinceKey   int
	keySize    int
	lastKey    time.Time

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
	ours := uint64(wire.CapSolid | wire.CapZstd | wire.CapCopy | wire.CapPalette | wire.CapStream | wire.CapAck | wire.CapJPEG | wire.CapKeyBatch)
	if s.cursorSrc != nil {
		ours |= wire.CapCursor
	}
	peer, err := s.c.handshake(wire.KindFramebuffer, ours, false)
	if err != nil {
		return err
	}
	s.caps = ours & peer.Caps
	s.paced = acked(peer, ours)
	if peer.Version < 3 {
		s.caps &^= wire.CapJPEG
	}
	if streamed(peer, ours) {
		// The stream compresses everything: compressing rectangles too would only cost time.
		s.caps &^= wire.CapZstd
		if err := s.c.startWriteStream(); err != nil {
			return err
		}
		s.keyBatches = s.caps&wire.CapKeyBatch != 0 && peer.Version >= 3
		s.lastKey = time.Now() // the stream's start is a key batch of its own
		s.restarts, s.level = peer.Version >= 3, zstd.SpeedDefault
	}
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
		case *wire.Quality:
			if s.caps&wire.CapJPEG == 0 {
				cancel(protocolErrorf("quality on a channel without lossy encoding"))
				return
			}
			s.quality.Store(uint32(m.Mode))
		case *wire.UpdateAck:
			if err := s.ack(m.Seq, time.Duration(m.Spread)*time.Microsecond); err != nil {
				cancel(err)
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
	s.refineT = time.NewTimer(time.Hour)
	s.refineT.Stop()
	defer s.refineT.Stop()
	for {
		if s.pending > 0 && s.linkOpen() {
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
		case <-s.ackSig:
		case <-s.refineT.C:
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
	region, key, level := s.region, s.keyDue(), s.streamLevel()
	if level != s.level && !s.keyBatches {
		// With key batches, a new frame starts only with one: the level changes at the next.
		if err := s.c.restartStream(level); err != nil {
			return fmt.Errorf("rdp: restart the stream: %w", err)
		}
		s.log.Debug("stream level follows the link", "level", level, "rate", s.linkRate())
		s.level = level
	}
	if key {
		if err := s.startKeyBatch(level); err != nil {
			return fmt.Errorf("rdp: start key batch: %w", err)
		}
		out, region = wire.Append(out[:0], &s.layout), s.bounds
	}
	out = s.appendCursor(out)
	if s.enc.pending(region) {
		s.areas = s.enc.captureAreas(s.areas[:0], region)
		frame, err := s.capture()
		if err != nil {
			// A monitor may have gone: look at the layout before giving up. The next answer
			// then announces it.
			if changed, lerr := s.checkLayout(); lerr == nil && changed {
				return nil
			}
			return err
		}
		s.enc.policy = s.lossyPolicy()
		s.enc.parts = nil
		if s.c.zw != nil { // the stream; only this goroutine starts or ends it
			s.enc.parts = s.c
		}
		if frame != nil {
			out = s.enc.encodeFrame(frame, s.areas, s.cur, region, out)
			frame.Release()
		} else {
			out = s.enc.encode(s.cur, region, out)
		}
		if at, ok := s.enc.nextRefine(); ok {
			s.refineT.Reset(time.Until(at))
		}
	}
	if len(out) == 0 && !s.c.partsPending() {
		return nil
	}
	s.seq++
	s.end.Seq = s.seq
	out = wire.Append(out, &s.end)
	s.out = out
	sent := s.c.sent.Load()
	if err := s.c.writeCounted(out, s.recordSent); err != nil {
		return fmt.Errorf("rdp: send update: %w", err)
	}
	s.pending--
	if onWire := int(s.c.sent.Load() - sent); key || s.keySize == 0 { // the first update is a whole screen
		s.keySize, s.sinceKey = max(onWire, 1), 0
	} else {
		s.sinceKey += onWire
	}
	return nil
}

// capture reads s.areas of the screen: into s.cur, or with a Grabber as a frame that the encode
// converts into s.cur as it diffs.
func (s *fbServer) capture() (Frame, error) {
	if s.grabber != nil {
		f, err := s.grabber.Grab(s.areas)
		if err != nil {
			return nil, fmt.Errorf("rdp: capture %v: %w", s.areas, err)
		}
		return f, nil
	}
	for _, a := range s.areas {
		if err := s.screen.Capture(subImageInto(&s.capDst, s.cur, a), a); err != nil {
			return nil, fmt.Errorf("rdp: capture %v: %w", a, err)
		}
	}
	return nil, nil
}

// keyDue reports whether the next update is a key batch (FramebufferOptions.KeyBatchRatio).
func (s *fbServer) keyDue() bool {
	return s.keyBatches && s.sinceKey >= s.opts.KeyBatchRatio*s.keySize && time.Since(s.lastKey) >= s.opts.KeyBatchMin
}

// startKeyBatch starts a new zstd frame at level and makes the next encode send the whole
// virtual screen and the cursor, as a viewer that starts here needs them.
func (s *fbServer) startKeyBatch(level zstd.EncoderLevel) error {
	if err := s.c.restartStream(level); err != nil {
		return err
	}
	s.level = level
	s.layoutChanged = false
	s.enc.forceAll(s.bounds)
	s.cursor = cursorState{}
	s.lastKey = time.Now()
	return nil
}

// lossyPolicy is what the next encode may send lossy: the viewer's quality, and for auto the
// link's measured rate.
func (s *fbServer) lossyPolicy() lossyPolicy {
	if s.caps&wire.CapJPEG == 0 {
		return lossyPolicy{}
	}
	return policyFor(Quality(s.quality.Load()), s.linkRate())
}

// linkRate is the link's delivery rate as the acks measure it (bytes a second), 0 unpaced or not
// known yet.
func (s *fbServer) linkRate() float64 {
	if !s.paced {
		return 0
	}
	s.paceMu.Lock()
	defer s.paceMu.Unlock()
	return s.pace.rate(time.Now())
}

// The stream's zstd level follows the link (version 3): zstd's default level, and its better one
// while the link's measured rate is under betterStreamBelow and its round trip at least
// betterStreamRTT; back to the default above defaultStreamAbove or under half that round trip.
// On a slow, distant link an update waits on the link, not on the agent: on the bench's full
// scenes the better level takes 13–16% off the bytes (240 scenes, each or one in 24) for 1–2 ms
// more of the agent's time an update, a few percent of that round trip. The round trip is part
// of the rule because the measured rate alone does not say the link is slow: on a LAN that the
// screen does not fill, the rate measured is the screen's (an idle or typing screen measures
// kilobytes a second), and there those milliseconds would be latency.
const (
	betterStreamBelow  = 4e6 // bytes a second: the bench's vpn (10 Mbit/s) and bad links
	defaultStreamAbove = 8e6
	betterStreamRTT    = 20 * time.Millisecond
)

// streamLevel is the level the stream should be at for the link as measured now.
func (s *fbServer) streamLevel() zstd.EncoderLevel {
	if !s.restarts || !s.paced {
		return s.level
	}
	s.paceMu.Lock()
	rate, rtt := s.pace.rate(time.Now()), s.pace.minRTT
	s.paceMu.Unlock()
	switch {
	case rate <= 0 || rtt <= 0:
	case rate < betterStreamBelow && rtt >= betterStreamRTT:
		return zstd.SpeedBetterCompression
	case rate > defaultStreamAbove || rtt < betterStreamRTT/2:
		return zstd.SpeedDefault
	}
	return s.level
}

// linkOpen reports whether the link has room for an update: always, unpaced.
func (s *fbServer) linkOpen() bool {
	if !s.paced {
		return true
	}
	s.paceMu.Lock()
	defer s.paceMu.Unlock()
	return s.pace.open(time.Now())
}

// onSent accounts update s.seq of n bytes as in flight, before it is written, so that its ack
// cannot come first.
func (s *fbServer) onSent(n int) {
	if !s.paced {
		return
	}
	s.paceMu.Lock()
	s.pace.onSend(s.seq, n, time.Now())
	s.paceMu.Unlock()
}

// ack takes the viewer's acknowledgement of an update and wakes the main loop, which may have
// waited for room on the link.
func (s *fbServer) ack(seq uint64, spread time.Duration) error {
	if !s.paced {
		return protocolErrorf("update-ack on a channel without acknowledgements")
	}
	s.paceMu.Lock()
	err := s.pace.onAck(seq, spread, time.Now())
	s.paceMu.Unlock()
	if err != nil {
		return err
	}
	select {
	case s.ackSig <- struct{}{}:
	default:
	}
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
