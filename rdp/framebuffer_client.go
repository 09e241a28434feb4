package rdp

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// viewerCaps are the encodings this viewer decodes.
const viewerCaps = wire.CapSolid | wire.CapZstd | wire.CapCopy | wire.CapCursor | wire.CapPalette | wire.CapStream | wire.CapAck | wire.CapJPEG

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
	acks        bool // the read loop acknowledges each update (version 3)

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

	// What the read loop holds of updates read and not yet applied is bounded (see heldLimit).
	held     atomic.Int64  // bytes of complete updates waiting for Next
	drained  chan struct{} // Next took one (a token, capacity 1)
	closed   chan struct{} // Close was called
	closeOne sync.Once
	limit    int // heldLimit of the latest layout the read loop saw (read loop only)
	// Updates Next has applied go back to the read loop to be filled again, with the chunks of
	// payloads they held (heldAllowance of them in all): a 1080p desktop change is a megabyte
	// or two of payloads, and allocating them afresh made the viewer collect every second or
	// so (deskbench lan full), each time with 15 ms of a core marking.
	spare chan *received

	dec *zstd.Decoder
	pix []byte
}

// received is one update as read from the channel, not yet applied: Next applies it, so the
// image always reflects exactly the updates Next has returned.
type received struct {
	bufs [][]byte // the payloads, back to back, in chunks that are never moved or regrown
	msgs []frame  // where each message is in bufs
	size int      // memory held: the chunks' capacity and msgOverhead a message
	time int64
	kept [][]byte // chunks of an applied update, to be filled again (reuse)
}

// reuse empties r, which Next has applied, to be filled again: it keeps the chunks (up to max
// bytes of them, so a large update does not stay held in full) and the message list.
func (r *received) reuse(max int) {
	r.kept = r.kept[:0]
	kept := 0
	for _, b := range r.bufs {
		if kept+cap(b) > max {
			break
		}
		r.kept = append(r.kept, b)
		kept += cap(b)
	}
	clear(r.bufs)
	r.bufs, r.msgs, r.size, r.time = r.bufs[:0], r.msgs[:0], 0, 0
}

type frame struct {
	t             wire.Type
	buf, off, end int
}

// chunkSize is the unit the read loop keeps payloads in: appending to one growing slice would
// hold the old and the new array at once while it copies.
const chunkSize = 256 << 10

// msgOverhead is what one message costs beyond its payload: its frame record (twice, for the
// slice's growth) and the RectInfo Next makes of it.
const msgOverhead = 128

func (r *received) add(t wire.Type, p []byte) { copy(r.space(t, len(p)), p) }

// space makes room in r for a message of type t with a payload of n bytes and returns it, for
// the caller to fill.
func (r *received) space(t wire.Type, n int) []byte {
	last := len(r.bufs) - 1
	if last < 0 || cap(r.bufs[last])-len(r.bufs[last]) < n {
		b := r.keptChunk(n)
		if b == nil {
			b = make([]byte, 0, max(chunkSize, n))
		}
		r.bufs = append(r.bufs, b)
		r.size += cap(b)
		last++
	}
	off := len(r.bufs[last])
	r.bufs[last] = r.bufs[last][:off+n]
	r.msgs = append(r.msgs, frame{t: t, buf: last, off: off, end: off + n})
	r.size += msgOverhead
	return r.bufs[last][off : off+n]
}

// keptChunk takes a chunk of an update applied before that holds n bytes, if r kept one.
func (r *received) keptChunk(n int) []byte {
	for i, b := range r.kept {
		if cap(b) >= n {
			last := len(r.kept) - 1
			r.kept[i], r.kept[last] = r.kept[last], nil
			r.kept = r.kept[:last]
			return b[:0]
		}
	}
	return nil
}

// cost is what adding a payload of n bytes would add to r.size, at most.
func (r *received) cost(n int) int {
	if last := len(r.bufs) - 1; last >= 0 && cap(r.bufs[last])-len(r.bufs[last]) >= n {
		return msgOverhead
	}
	return max(chunkSize, n) + msgOverhead
}

func (r *received) payload(m frame) []byte { return r.bufs[m.buf][m.off:m.end] }

// ErrTooMuchData is why a viewer ends a session whose agent sends more than any update of its
// screen could need: an update that never ends, or updates past what a full frame would take.
var ErrTooMuchData = errors.New("the agent sent more than a screen's worth of data")

// Bounds on what the read loop holds of updates it read and Next has not applied yet, together
// (the one being read and those waiting). A full update of the layout costs at most its area ×
// 3 bytes of RGB plus message headers, or compressed data that did not shrink; 4 bytes a pixel
// leave a third for that. heldAllowance covers what does not grow with the screen (cursor
// shapes, a layout, a small screen's tiles), and maxHeld caps it all whatever the layout. So the
// viewer holds at most twice one full frame of its layout (its image and this) plus the
// allowance, and an agent that sends faster than Next applies just waits on the channel's window.
const (
	heldAllowance = 4 << 20
	maxHeld       = 256 << 20
)

func heldLimit(area int) int { return min(4*area+heldAllowance, maxHeld) }

// NewFramebufferClient does the handshake on rw (the framebuffer channel) and reads the agent's
// layout. inFlight is how many update requests it keeps outstanding (0 means 2): more hides
// latency on a long link, fewer sends fewer stale frames on a slow one.
func NewFramebufferClient(rw io.ReadWriter, inFlight int) (*FramebufferClient, error) {
	return newFramebufferClient(rw, inFlight, viewerCaps)
}

// newFramebufferClient is NewFramebufferClient announcing caps, so tests can speak as older
// viewers.
func newFramebufferClient(rw io.ReadWriter, inFlight int, caps uint64) (*FramebufferClient, error) {
	if inFlight <= 0 {
		inFlight = 2
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(wire.MaxPixelData))
	if err != nil {
		return nil, fmt.Errorf("rdp: zstd decoder: %w", err)
	}
	c := &FramebufferClient{c: newConn(rw), inFlight: inFlight, full: true, dec: dec,
		updates: make(chan *received, inFlight), done: make(chan struct{}),
		drained: make(chan struct{}, 1), closed: make(chan struct{}), spare: make(chan *received, inFlight)}
	peer, err := c.c.handshake(wire.KindFramebuffer, caps, true)
	if err != nil {
		return nil, err
	}
	c.caps = peer.Caps & caps // what both speak
	if peer.Version < 3 {
		c.caps &^= wire.CapJPEG
	}
	c.acks = acked(peer, caps)
	if streamed(peer, caps) {
		if err := c.c.startReadStream(); err != nil {
			return nil, err
		}
	}
	m, err := c.c.read()
	if err != nil {
		return nil, fmt.Errorf("rdp: read layout: %w", err)
	}
	l, ok := m.(*wire.Layout)
	if !ok {
		return nil, protocolErrorf("expected layout, got %s", m.Type())
	}
	c.setLayout(l)
	c.limit = heldLimit(layoutArea(l))
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
	defer c.release(r)
	u := Update{Time: r.time, Rects: make([]RectInfo, 0, len(r.msgs))}
	for _, m := range r.msgs {
		if err := c.handle(m.t, r.payload(m), &u); err != nil {
			c.broken = err
			c.c.sendClose(wire.CloseProtocol, err.Error())
			c.c.close()
			return Update{}, err
		}
	}
	return u, nil
}

// release tells the read loop that r was applied and its memory is free, and hands r back to it.
func (c *FramebufferClient) release(r *received) {
	c.held.Add(-int64(r.size))
	if cap(c.spare) > 0 {
		r.reuse(heldAllowance / cap(c.spare))
		select {
		case c.spare <- r:
		default:
		}
	}
	select {
	case c.drained <- struct{}{}:
	default:
	}
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

// SetQuality tells the agent how it may trade exactness for bytes (QualityAuto until then). An
// agent before version 3 sends everything exactly; it is not told.
func (c *FramebufferClient) SetQuality(q Quality) error {
	if c.caps&wire.CapJPEG == 0 {
		return nil
	}
	if err := c.c.write(&wire.Quality{Mode: uint8(q)}); err != nil {
		return fmt.Errorf("rdp: send quality: %w", err)
	}
	return nil
}

// CopyTo copies the part of the screen under dst.Bounds() (virtual-screen coordinates) into dst.
func (c *FramebufferClient) CopyTo(dst *image.RGBA) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r := dst.Rect.Intersect(c.img.Rect)
	copyPixels(dst, c.img, r)
}

// Snapshot returns a copy of r (virtual-screen coordinates, clipped to the screen).
func (c *FramebufferClient) Snapshot(r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(r.Intersect(c.Bounds()))
	c.CopyTo(img)
	return img
}

// WireBytes is how many bytes the viewer has read from the channel so far: with the stream
// (version 2) the compressed size, where an Update's RectInfo.Bytes are sizes decompressed.
func (c *FramebufferClient) WireBytes() int64 { return c.c.nread.Load() }

// Cursor returns the pointer as last reported.
func (c *FramebufferClient) Cursor() Cursor {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cursor
}

// Close tells the agent the viewer is done and closes rw if it can be closed.
func (c *FramebufferClient) Close() error {
	c.closeOne.Do(func() { close(c.closed) })
	c.c.sendClose(wire.CloseNormal, "")
	c.c.close()
	return nil
}

func (c *FramebufferClient) fail(err error) {
	c.err = err
	close(c.done)
}

// readLoop collects the messages of each update and hands complete updates to Next, holding
// no more than heldLimit of them.
func (c *FramebufferClient) readLoop() {
	r := c.next()
	c.c.arrival.arm()
	for {
		t, p, err := c.readMessage(r)
		if err != nil {
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
		if t != wire.TUpdateEnd {
			continue
		}
		now := time.Now()
		r.time = now.UnixNano()
		c.held.Add(int64(r.size))
		var end wire.UpdateEnd
		endErr := end.DecodePayload(p)
		select {
		case c.updates <- r:
		default:
			c.fail(protocolErrorf("agent sent an update that was not requested"))
			return
		}
		if c.acks && endErr == nil {
			// Acknowledged the moment it arrived: the agent paces its updates by these. One
			// that does not decode is not; Next fails on it.
			// How long the update took to arrive: from the first bytes after the previous
			// update to now. A zstd block decodes only once whole, so the channel's own
			// bytes are timed, not the decoded messages.
			spread := uint64(min(c.c.arrival.spread(now, c.c.nread.Load()).Microseconds(), wire.MaxSpread))
			c.c.arrival.arm()
			if err := c.c.write(&wire.UpdateAck{Seq: end.Seq, Spread: spread}); err != nil {
				c.fail(fmt.Errorf("rdp: send update ack: %w", err))
				return
			}
		}
		r = c.next()
	}
}

// next is an empty update for the read loop to fill: one Next applied, or a new one.
func (c *FramebufferClient) next() *received {
	select {
	case r := <-c.spare:
		return r
	default:
		return &received{}
	}
}

// readMessage reads the next message into r, where Next will find it: a rectangle's payload is
// read from the channel (or its stream) straight into r's chunks, not into a buffer first and
// copied from there, which was an eighth of the viewer's time on a changing 1080p desktop. A
// close or a layout is read aside first, since it bears on how much r may hold; r takes the
// layout once the new limit is in force.
func (c *FramebufferClient) readMessage(r *received) (wire.Type, []byte, error) {
	t, n, err := wire.ReadHead(c.c.r)
	if err != nil {
		return 0, nil, readError(err)
	}
	var p []byte
	if t == wire.TClose || t == wire.TLayout {
		if cap(c.c.rbuf) < n {
			c.c.rbuf = make([]byte, n)
		}
		p = c.c.rbuf[:n]
		if err := wire.ReadPayload(c.c.r, p); err != nil {
			return 0, nil, readError(err)
		}
		if t == wire.TClose {
			return t, p, nil
		}
		var l wire.Layout
		if l.DecodePayload(p) == nil { // a bad one fails in Next
			c.limit = heldLimit(layoutArea(&l))
		}
	}
	if err := c.makeRoom(r, n); err != nil {
		if errors.Is(err, ErrTooMuchData) {
			c.c.sendClose(wire.CloseProtocol, err.Error())
			c.c.close()
		}
		return 0, nil, err
	}
	if p != nil {
		r.add(t, p)
		return t, p, nil
	}
	p = r.space(t, n)
	if err := wire.ReadPayload(c.c.r, p); err != nil {
		return 0, nil, readError(err)
	}
	return t, p, nil
}

// readError is why the read loop ends when reading the channel failed.
func readError(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("rdp: the agent closed the framebuffer channel: %w", err)
	}
	return fmt.Errorf("rdp: read update: %w", err)
}

// makeRoom waits until r can take n more bytes within the limit, while Next applies the
// updates that wait. When r alone would be over it, the agent is sending more than a screen's
// worth: that is an error.
func (c *FramebufferClient) makeRoom(r *received, n int) error {
	need := r.size + r.cost(n)
	if need > c.limit {
		return fmt.Errorf("rdp: %w (%d bytes in one update, at most %d for its layout)", ErrTooMuchData, r.size+n, c.limit)
	}
	for int(c.held.Load())+need > c.limit {
		select {
		case <-c.drained:
		case <-c.closed:
			return errors.New("rdp: the viewer closed the framebuffer channel")
		}
	}
	return nil
}

// layoutArea is the pixels of the layout's virtual screen, its monitors' bounding box.
func layoutArea(l *wire.Layout) int {
	var b image.Rectangle
	for _, m := range l.Monitors {
		b = b.Union(image.Rect(int(m.X), int(m.Y), int(m.X)+int(m.W), int(m.Y)+int(m.H)))
	}
	return b.Dx() * b.Dy()
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

// setLayout takes a new layout and returns it; one equal to the layout in force (a key batch
// repeats it) changes nothing and returns nil.
func (c *FramebufferClient) setLayout(l *wire.Layout) []Monitor {
	mons := make([]Monitor, len(l.Monitors))
	var bounds image.Rectangle
	for i, m := range l.Monitors {
		mons[i] = Monitor{X: int(m.X), Y: int(m.Y), W: int(m.W), H: int(m.H), Primary: m.Primary, Name: m.Name}
		bounds = bounds.Union(mons[i].Bounds())
	}
	c.mu.RLock()
	same := len(c.monitors) > 0 && slices.Equal(c.monitors, mons)
	c.mu.RUnlock()
	if same {
		return nil
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
	case wire.EncJPEG:
		info.Enc = "jpeg"
		img, err := decodeJPEG(r.Data, dst.Dx(), dst.Dy())
		if err != nil {
			return info, protocolErrorf("update rect %v: %v", dst, err)
		}
		c.mu.Lock()
		drawJPEG(c.img, dst, img)
		c.mu.Unlock()
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
