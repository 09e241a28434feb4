package rdp

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// viewerCaps are the encodings this viewer decodes.
const viewerCaps = wire.CapSolid | wire.CapZstd | wire.CapCopy | wire.CapCursor | wire.CapPalette

// Cursor is the agent's pointer as the viewer last heard of it.
type Cursor struct {
	X, Y int // hotspot position, virtual-screen coordinates
	// Shape is the pointer image (premultiplied RGBA, bounds from 0,0), nil while hidden or
	// unknown. A new shape is a new image: a Shape handed out is never written again.
	Shape      *image.RGBA
	HotX, HotY int
}

// FramebufferClient is the viewer's side of the framebuffer channel. It keeps its own copy of
// the agent's screen, brought up to date by the updates that Next pulls.
//
// Next must be called from one goroutine at a time; every other method is safe to call from any
// goroutine, concurrently with Next.
type FramebufferClient struct {
	c           *conn
	inFlight    int
	outstanding int // requests sent and not yet returned by Next (owned by Next's goroutine)
	caps        uint64

	mu       sync.RWMutex
	img      *image.RGBA
	monitors []Monitor
	cursor   Cursor
	region   image.Rectangle
	full     bool

	updates chan *received
	done    chan struct{}
	err     error // set before done is closed
	broken  error // a bad update seen by Next: the client is unusable (Next's goroutine only)

	dec *zstd.Decoder
	pix []byte
}

// received is one update as read from the channel, not yet applied: Next applies it, so the
// image always reflects exactly the updates Next has returned.
type received struct {
	data []byte  // the payloads, back to back
	msgs []frame // where each message is in data
	time int64
}

type frame struct {
	t        wire.Type
	off, end int
}

// NewFramebufferClient does the handshake on rw (the framebuffer channel) and reads the agent's
// layout. inFlight is how many update requests it keeps outstanding (0 means 2): more hides
// latency on a long link, fewer sends fewer stale frames on a slow one.
func NewFramebufferClient(rw io.ReadWriter, inFlight int) (*FramebufferClient, error) {
	if inFlight <= 0 {
		inFlight = 2
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(wire.MaxPixelData))
	if err != nil {
		return nil, fmt.Errorf("rdp: zstd decoder: %w", err)
	}
	c := &FramebufferClient{c: newConn(rw), inFlight: inFlight, full: true, dec: dec,
		updates: make(chan *received, inFlight), done: make(chan struct{})}
	peer, err := c.c.handshake(wire.KindFramebuffer, viewerCaps, true)
	if err != nil {
		return nil, err
	}
	c.caps = peer.Caps
	m, err := c.c.read()
	if err != nil {
		return nil, fmt.Errorf("rdp: read layout: %w", err)
	}
	l, ok := m.(*wire.Layout)
	if !ok {
		return nil, protocolErrorf("expected layout, got %s", m.Type())
	}
	c.setLayout(l)
	go c.readLoop()
	return c, nil
}

// Monitors returns the agent's current monitor layout.
func (c *FramebufferClient) Monitors() []Monitor {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]Monitor(nil), c.monitors...)
}

// Bounds returns the virtual screen: the bounding box of the monitors.
func (c *FramebufferClient) Bounds() image.Rectangle {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.img.Rect
}

// SetRegion limits the following requests to r (virtual-screen coordinates); the empty
// rectangle means the whole virtual screen.
func (c *FramebufferClient) SetRegion(r image.Rectangle) {
	c.mu.Lock()
	c.region = r
	c.mu.Unlock()
}

// SelectMonitor limits the following requests to monitor i of Monitors.
func (c *FramebufferClient) SelectMonitor(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.monitors) {
		return fmt.Errorf("rdp: no monitor %d; the agent has %d", i, len(c.monitors))
	}
	c.region = c.monitors[i].Bounds()
	return nil
}

// RequestFull makes the next request ask for every pixel of the region instead of the changes.
func (c *FramebufferClient) RequestFull() {
	c.mu.Lock()
	c.full = true
	c.mu.Unlock()
}

// Next returns the next update, once it has been applied to the client's image: the image
// always shows exactly the updates Next has returned, so an update's rectangles are what
// changed since the previous Next. It first tops the outstanding requests up to the in-flight
// count, so the agent is only asked for as many updates as the caller consumes: a slow consumer
// gets fresh frames, not a backlog. The first request asks for the whole region.
//
// An error other than ctx's is final: the channel is broken or closed.
func (c *FramebufferClient) Next(ctx context.Context) (Update, error) {
	if c.broken != nil {
		return Update{}, c.broken
	}
	for c.outstanding < c.inFlight {
		if err := c.request(); err != nil {
			return Update{}, err
		}
		c.outstanding++
	}
	var r *received
	select {
	case r = <-c.updates:
	case <-c.done:
		select {
		case r = <-c.updates:
		default:
			return Update{}, c.err
		}
	case <-ctx.Done():
		return Update{}, ctx.Err()
	}
	c.outstanding--
	u := Update{Time: r.time, Rects: make([]RectInfo, 0, len(r.msgs))}
	for _, m := range r.msgs {
		if err := c.handle(m.t, r.data[m.off:m.end], &u); err != nil {
			c.broken = err
			c.c.sendClose(wire.CloseProtocol, err.Error())
			c.c.close()
			return Update{}, err
		}
	}
	return u, nil
}

func (c *FramebufferClient) request() error {
	c.mu.Lock()
	r, full := c.region, c.full
	c.full = false
	c.mu.Unlock()
	req := &wire.UpdateRequest{Incremental: !full, X: int32(clampCoord(r.Min.X)), Y: int32(clampCoord(r.Min.Y)),
		W: uint32(min(r.Dx(), wire.MaxScreen)), H: uint32(min(r.Dy(), wire.MaxScreen))}
	if err := c.c.write(req); err != nil {
		return fmt.Errorf("rdp: send update request: %w", err)
	}
	return nil
}

// CopyTo copies the part of the screen under dst.Bounds() (virtual-screen coordinates) into dst.
func (c *FramebufferClient) CopyTo(dst *image.RGBA) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r := dst.Rect.Intersect(c.img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(rowBytes(dst, r.Min.X, r.Max.X, y), rowBytes(c.img, r.Min.X, r.Max.X, y))
	}
}

// Snapshot returns a copy of r (virtual-screen coordinates, clipped to the screen).
func (c *FramebufferClient) Snapshot(r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(r.Intersect(c.Bounds()))
	c.CopyTo(img)
	return img
}

// Cursor returns the pointer as last reported.
func (c *FramebufferClient) Cursor() Cursor {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cursor
}

// Close tells the agent the viewer is done and closes rw if it can be closed.
func (c *FramebufferClient) Close() error {
	c.c.sendClose(wire.CloseNormal, "")
	c.c.close()
	return nil
}

func (c *FramebufferClient) fail(err error) {
	c.err = err
	close(c.done)
}

// readLoop collects the messages of each update and hands complete updates to Next.
func (c *FramebufferClient) readLoop() {
	r := &received{}
	for {
		t, p, err := c.c.readFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("rdp: the agent closed the framebuffer channel: %w", err)
			} else {
				err = fmt.Errorf("rdp: read update: %w", err)
			}
			c.fail(err)
			return
		}
		if t == wire.TClose {
			var m wire.Close
			if err := m.DecodePayload(p); err != nil {
				c.fail(protocolErrorf("decode close: %v", err))
			} else {
				c.fail(&RemoteError{Code: m.Code, Reason: m.Reason})
			}
			return
		}
		off := len(r.data)
		r.data = append(r.data, p...)
		r.msgs = append(r.msgs, frame{t: t, off: off, end: len(r.data)})
		if t != wire.TUpdateEnd {
			continue
		}
		r.time = time.Now().UnixNano()
		select {
		case c.updates <- r:
		default:
			c.fail(protocolErrorf("agent sent an update that was not requested"))
			return
		}
		r = &received{}
	}
}

// handle applies one message to the client's state and records it in u.
func (c *FramebufferClient) handle(t wire.Type, p []byte, u *Update) error {
	size := len(p) + 5
	switch t {
	case wire.TRect:
		var r wire.Rect
		if err := r.DecodePayload(p); err != nil {
			return protocolErrorf("decode rect: %v", err)
		}
		info, err := c.apply(&r)
		if err != nil {
			return err
		}
		info.Bytes = size
		u.Rects = append(u.Rects, info)
	case wire.TUpdateEnd:
		var m wire.UpdateEnd
		if err := m.DecodePayload(p); err != nil {
			return protocolErrorf("decode update end: %v", err)
		}
	case wire.TLayout:
		var l wire.Layout
		if err := l.DecodePayload(p); err != nil {
			return protocolErrorf("decode layout: %v", err)
		}
		u.Layout = c.setLayout(&l)
	case wire.TCursorShape, wire.TCursorPos:
		return c.handleCursor(t, p, u, size)
	default:
		return protocolErrorf("unexpected %s message on the framebuffer channel", t)
	}
	return nil
}

func (c *FramebufferClient) setLayout(l *wire.Layout) []Monitor {
	mons := make([]Monitor, len(l.Monitors))
	var bounds image.Rectangle
	for i, m := range l.Monitors {
		mons[i] = Monitor{X: int(m.X), Y: int(m.Y), W: int(m.W), H: int(m.H), Primary: m.Primary, Name: m.Name}
		bounds = bounds.Union(mons[i].Bounds())
	}
	img := image.NewRGBA(bounds)
	fill(img, bounds, [3]byte{})
	c.mu.Lock()
	c.img, c.monitors = img, mons
	c.mu.Unlock()
	return mons
}

// apply draws one rectangle into the image.
func (c *FramebufferClient) apply(r *wire.Rect) (RectInfo, error) {
	dst := image.Rect(int(r.X), int(r.Y), int(r.X)+int(r.W), int(r.Y)+int(r.H))
	info := RectInfo{X: dst.Min.X, Y: dst.Min.Y, W: dst.Dx(), H: dst.Dy()}
	c.mu.RLock()
	screen := c.img.Rect
	c.mu.RUnlock()
	if !dst.In(screen) {
		return info, protocolErrorf("update rect %v exceeds screen %dx%d", dst, screen.Dx(), screen.Dy())
	}
	switch r.Enc {
	case wire.EncSolid:
		info.Enc = "solid"
		c.mu.Lock()
		fill(c.img, dst, [3]byte(r.Data))
		c.mu.Unlock()
	case wire.EncRaw:
		info.Enc = "raw"
		c.mu.Lock()
		unpackRGB(c.img, dst, r.Data)
		c.mu.Unlock()
	case wire.EncZstd:
		info.Enc = "zstd"
		want := dst.Dx() * dst.Dy() * 3
		var err error
		c.pix, err = c.dec.DecodeAll(r.Data, c.pix[:0])
		if err != nil {
			return info, protocolErrorf("update rect %v: zstd: %v", dst, err)
		}
		if len(c.pix) != want {
			return info, protocolErrorf("update rect %v: zstd data decodes to %d bytes, want %d", dst, len(c.pix), want)
		}
		c.mu.Lock()
		unpackRGB(c.img, dst, c.pix)
		c.mu.Unlock()
	case wire.EncPalette:
		info.Enc = "palette"
		data := r.Data
		if r.Zstd {
			var err error
			if c.pix, err = c.dec.DecodeAll(r.Data, c.pix[:0]); err != nil {
				return info, protocolErrorf("update rect %v: zstd: %v", dst, err)
			}
			data = c.pix
		}
		if want := wire.PackedSize(dst.Dx(), dst.Dy(), len(r.Palette)/3); len(data) != want {
			return info, protocolErrorf("update rect %v: palette data is %d bytes, want %d", dst, len(data), want)
		}
		c.mu.Lock()
		err := unpackPalette(c.img, dst, r.Palette, data)
		c.mu.Unlock()
		if err != nil {
			return info, protocolErrorf("update rect %v: %v", dst, err)
		}
	case wire.EncCopy:
		info.Enc = "copy"
		src := image.Pt(int(r.SrcX), int(r.SrcY))
		if sr := dst.Sub(dst.Min).Add(src); !sr.In(screen) {
			return info, protocolErrorf("copy source %v exceeds screen %dx%d", sr, screen.Dx(), screen.Dy())
		}
		c.mu.Lock()
		copyRect(c.img, dst, src)
		c.mu.Unlock()
	}
	return info, nil
}

func (c *FramebufferClient) handleCursor(t wire.Type, p []byte, u *Update, size int) error {
	if u.Cursor == nil {
		cur := c.Cursor()
		u.Cursor = &CursorInfo{X: cur.X, Y: cur.Y}
	}
	u.Cursor.Bytes += size
	if t == wire.TCursorPos {
		var m wire.CursorPos
		if err := m.DecodePayload(p); err != nil {
			return protocolErrorf("decode cursor position: %v", err)
		}
		u.Cursor.X, u.Cursor.Y = int(m.X), int(m.Y)
		c.mu.Lock()
		c.cursor.X, c.cursor.Y = int(m.X), int(m.Y)
		c.mu.Unlock()
		return nil
	}
	var m wire.CursorShape
	if err := m.DecodePayload(p); err != nil {
		return protocolErrorf("decode cursor shape: %v", err)
	}
	u.Cursor.Shape = true
	var shape *image.RGBA
	if m.W > 0 {
		data := m.Data
		if m.Enc == wire.EncZstd {
			var err error
			data, err = c.dec.DecodeAll(m.Data, nil)
			if err != nil || len(data) != int(m.W)*int(m.H)*4 {
				return protocolErrorf("cursor shape %dx%d: bad zstd data (%d bytes, %v)", m.W, m.H, len(data), err)
			}
		}
		shape = image.NewRGBA(image.Rect(0, 0, int(m.W), int(m.H)))
		copy(shape.Pix, data)
	}
	c.mu.Lock()
	c.cursor.Shape, c.cursor.HotX, c.cursor.HotY = shape, int(m.HotX), int(m.HotY)
	c.mu.Unlock()
	return nil
}
