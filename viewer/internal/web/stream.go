package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/assistkit/assist/rdp"
)

// The screen reaches the page as one long binary response to POST /stream, read with fetch and
// a ReadableStream reader. Each message is a type byte, a little-endian uint32 payload length,
// and the payload:
//
//	msgJSON    a JSON object with a "t" field: hello, layout, cursor, state, clipboard, ended, error
//	msgRect    x, y, w, h (uint32, relative to the region shown) then w×h×4 RGBA bytes
//	msgCursor  w, h, hotX, hotY (uint16) then w×h×4 RGBA bytes (straight alpha); w=0 hides it
//	msgFrame   uint32 frame number: the page draws, then POSTs /ack
//	msgFill    x, y, w, h (uint32) then R, G, B, A: a rectangle of one colour
//
// The server pulls the next rdp update only after the page acknowledged the previous frame,
// so a slow browser gets the newest pixels instead of a queue of stale ones: the rectangles'
// pixels are read from the client's image when they are sent, not when they arrived.
const (
	msgJSON   = 1
	msgRect   = 2
	msgCursor = 3
	msgFrame  = 4
	msgFill   = 5
)

// errReselect ends a view's framebuffer channel so the next one asks for another monitor. A
// new channel is the only way to re-aim at once: on an idle screen the agent holds the
// outstanding requests until something changes.
var errReselect = errors.New("monitor selection changed")

// view is one page's screen stream.
type view struct {
	id    int
	ack   chan uint32 // frame numbers the page drew
	frame uint32      // the last frame sent; owned by the stream's goroutine

	mu       sync.Mutex
	monitor  int // -1: all
	cancelFB context.CancelCauseFunc
	quality  rdp.Quality
	fb       *rdp.FramebufferClient // the channel the pump has open, nil between channels
}

func (v *view) selected() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.monitor
}

func (v *view) reselect(i int) {
	v.mu.Lock()
	v.monitor = i
	cancel := v.cancelFB
	v.mu.Unlock()
	if cancel != nil {
		cancel(errReselect)
	}
}

// setQuality tells the agent at once, when a channel is open, and every channel after.
func (v *view) setQuality(q rdp.Quality) error {
	v.mu.Lock()
	v.quality = q
	fb := v.fb
	v.mu.Unlock()
	if fb == nil {
		return nil
	}
	return fb.SetQuality(q)
}

// attach makes fb the view's open channel (nil: none) and gives it the view's quality.
func (v *view) attach(fb *rdp.FramebufferClient) error {
	v.mu.Lock()
	v.fb = fb
	q := v.quality
	v.mu.Unlock()
	if fb == nil {
		return nil
	}
	return fb.SetQuality(q)
}

type views struct {
	mu   sync.Mutex
	next int
	m    map[int]*view
	// broadcast hears notices for every open page (clipboard, control state).
	subs map[int]chan any
}

func newViews() *views { return &views{m: map[int]*view{}, subs: map[int]chan any{}} }

func (vs *views) add(monitor int, q rdp.Quality) (*view, chan any) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.next++
	v := &view{id: vs.next, ack: make(chan uint32, 4), monitor: monitor, quality: q}
	vs.m[v.id] = v
	notes := make(chan any, 64)
	vs.subs[v.id] = notes
	return v, notes
}

func (vs *views) remove(v *view) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	delete(vs.m, v.id)
	delete(vs.subs, v.id)
}

func (vs *views) get(id int) *view {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	return vs.m[id]
}

// notify sends a JSON notice to every open page; a page too slow to take it misses it.
func (vs *views) notify(n any) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for _, c := range vs.subs {
		select {
		case c <- n:
		default:
		}
	}
}

// streamWriter frames messages onto the response. Frames and notices come from two
// goroutines; mu keeps each whole.
type streamWriter struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	rc  *http.ResponseController
	hdr [5]byte
	buf *image.RGBA
}

func (sw *streamWriter) header(t byte, n int) {
	sw.hdr[0] = t
	binary.LittleEndian.PutUint32(sw.hdr[1:], uint32(n))
	sw.bw.Write(sw.hdr[:])
}

func (sw *streamWriter) json(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sw.header(msgJSON, len(b))
	_, err = sw.bw.Write(b)
	return err
}

// maxStrip bounds the RGBA bytes of one rectangle message: a larger rectangle goes in bands of
// rows, so neither this server nor the page holds a whole screen's copy to send or draw one.
const maxStrip = 256 << 10

// rect sends r (virtual-screen coordinates) as RGBA, relative to origin, in bands of maxStrip.
func (sw *streamWriter) rect(fb *rdp.FramebufferClient, r image.Rectangle, origin image.Point) error {
	rows := max(1, maxStrip/(r.Dx()*4))
	for y := r.Min.Y; y < r.Max.Y; y += rows {
		band := image.Rect(r.Min.X, y, r.Max.X, min(y+rows, r.Max.Y))
		if err := sw.band(fb, band, origin); err != nil {
			return err
		}
	}
	return nil
}

// band sends one band of rows as a msgRect, or a msgFill when it is of one colour.
func (sw *streamWriter) band(fb *rdp.FramebufferClient, r image.Rectangle, origin image.Point) error {
	n := r.Dx() * r.Dy() * 4
	if sw.buf == nil || cap(sw.buf.Pix) < n {
		sw.buf = &image.RGBA{Pix: make([]byte, n)}
	}
	img := &image.RGBA{Pix: sw.buf.Pix[:n], Stride: r.Dx() * 4, Rect: r}
	fb.CopyTo(img)
	var b [20]byte
	rel := r.Sub(origin)
	binary.LittleEndian.PutUint32(b[0:], uint32(rel.Min.X))
	binary.LittleEndian.PutUint32(b[4:], uint32(rel.Min.Y))
	binary.LittleEndian.PutUint32(b[8:], uint32(r.Dx()))
	binary.LittleEndian.PutUint32(b[12:], uint32(r.Dy()))
	// A rectangle of one colour (flat UI, a cleared screen) is a fillRect for the page instead
	// of w×h×4 bytes: the pixels equal their neighbour four bytes on, throughout.
	if bytes.Equal(img.Pix[4:], img.Pix[:n-4]) {
		copy(b[16:], img.Pix[:4])
		sw.header(msgFill, 20)
		_, err := sw.bw.Write(b[:])
		return err
	}
	sw.header(msgRect, 16+n)
	sw.bw.Write(b[:16])
	_, err := sw.bw.Write(img.Pix)
	return err
}

// cursor sends the pointer image with straight alpha, which putImageData wants; rdp's is
// premultiplied.
func (sw *streamWriter) cursor(c rdp.Cursor) error {
	var w, h int
	var pix []byte
	if c.Shape != nil {
		w, h = c.Shape.Rect.Dx(), c.Shape.Rect.Dy()
		pix = make([]byte, 0, w*h*4)
		for y := range h {
			row := c.Shape.Pix[y*c.Shape.Stride : y*c.Shape.Stride+w*4]
			for i := 0; i < len(row); i += 4 {
				p := [4]byte(row[i : i+4])
				if a := uint32(p[3]); a != 0 && a != 255 {
					for j := range 3 {
						p[j] = byte(min(255, uint32(p[j])*255/a))
					}
				}
				pix = append(pix, p[:]...)
			}
		}
	}
	sw.header(msgCursor, 8+len(pix))
	var b [8]byte
	binary.LittleEndian.PutUint16(b[0:], uint16(w))
	binary.LittleEndian.PutUint16(b[2:], uint16(h))
	binary.LittleEndian.PutUint16(b[4:], uint16(c.HotX))
	binary.LittleEndian.PutUint16(b[6:], uint16(c.HotY))
	sw.bw.Write(b[:])
	_, err := sw.bw.Write(pix)
	return err
}

func (sw *streamWriter) frame(n uint32) error {
	sw.header(msgFrame, 4)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	sw.bw.Write(b[:])
	return sw.flush()
}

// note sends one notice at once.
func (sw *streamWriter) note(v any) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if err := sw.json(v); err != nil {
		return err
	}
	return sw.flush()
}

func (sw *streamWriter) flush() error {
	if err := sw.bw.Flush(); err != nil {
		return err
	}
	return sw.rc.Flush()
}

// Notices on the stream, as JSON.
type (
	helloNote struct {
		T       string `json:"t"` // "hello"
		View    int    `json:"view"`
		Request string `json:"request"`
		Quality string `json:"quality"` // auto, sharp or fast
	}
	layoutNote struct {
		T        string        `json:"t"` // "layout"
		Monitors []rdp.Monitor `json:"monitors"`
		Selected int           `json:"selected"`
		Region   image.Rectangle
	}
	cursorNote struct {
		T    string `json:"t"` // "cursor"
		X, Y int
	}
	reconnectingNote struct {
		T      string `json:"t"` // "reconnecting": the screen is back when the person's agent is
		Reason string `json:"reason"`
	}
	endedNote struct {
		T      string `json:"t"` // "ended" (the session is over) or "error" (this stream failed)
		Reason string `json:"reason"`
	}
)

func (w *Server) handleStream(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/octet-stream")
	rw.WriteHeader(http.StatusOK)
	sw := &streamWriter{bw: bufio.NewWriterSize(rw, 256<<10), rc: http.NewResponseController(rw)}
	v, notes := w.views.add(w.opts.Monitor, w.opts.Quality)
	defer w.views.remove(v)
	sw.note(helloNote{T: "hello", View: v.id, Request: w.s.Request(), Quality: w.opts.Quality.String()})
	if n, ok := w.limitNow(); ok {
		sw.note(n)
	}
	for _, n := range w.chatNotes() {
		sw.note(n)
	}

	ctx, cancel := context.WithCancel(r.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // notices flow while the screen is idle, and before the person answered
		defer wg.Done()
		for {
			select {
			case n := <-notes:
				sw.note(n)
			case <-w.stop:
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	// The state waits for the person's answer (it opens the input channel); chat flows before.
	sw.note(w.input.stateNote())
	err := w.runView(ctx, v, sw)
	cancel()
	wg.Wait()
	switch {
	case w.over(err):
		sw.note(endedNote{T: "ended", Reason: w.stopReason()})
	case err != nil && r.Context().Err() == nil:
		w.log.Info("viewer page stream ended", "err", err)
		sw.note(endedNote{T: "error", Reason: err.Error()})
	}
}

// over reports whether the page is done because the session or the viewer is, after the stream
// stopped with err. The channel's EOF can come before the session learns why it ended (the
// gateway says so just before it closes the connection), so an error on a connection that no
// longer answers a ping waits for the session's end, which then follows without fail (the
// session ends when its connection does): the page gets the reason, never the EOF with it.
func (w *Server) over(err error) bool {
	select {
	case <-w.stop:
		return true
	case <-w.s.Ended():
		return true
	default:
	}
	if err == nil {
		return false
	}
	if _, perr := w.s.Ping(); perr == nil {
		return false // the connection is alive: this stream failed on its own
	}
	<-w.s.Ended()
	return true
}

// runView shows the page one framebuffer channel after another: one per monitor selection, and
// a new one when the screen's channel closes under a session that goes on — the person's agent
// lost its connection, and the gateway holds the new channel until the agent is back. The page
// reads "reconnecting" meanwhile. A channel that ends before its first frame ends the stream, so
// an agent that keeps closing the screen is reported, not retried forever.
func (w *Server) runView(ctx context.Context, v *view, sw *streamWriter) error {
	reconnecting := false
	for {
		fctx, cancel := context.WithCancelCause(ctx)
		v.mu.Lock()
		v.cancelFB = cancel
		v.mu.Unlock()
		frames, err := w.pump(fctx, v, sw, reconnecting)
		cancel(nil)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errReselect):
			continue
		case frames > 0 && w.resumable(err):
			reconnecting = true
			sw.note(reconnectingNote{T: "reconnecting", Reason: w.awayReason()})
			continue
		}
		return err
	}
}

// resumable reports whether a screen that failed with err may come back on a new channel: it
// closed (rather than broke the protocol) and the session has not ended.
func (w *Server) resumable(err error) bool {
	select {
	case <-w.s.Ended():
		return false
	default:
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func (w *Server) awayReason() string {
	if r := w.s.Away(); r != "" {
		return r
	}
	return "the connection to the person's computer was interrupted"
}

// pump opens a framebuffer channel for the view's monitor and sends frames until ctx ends; it
// says how many it sent. After a reconnect, the first frame tells the page the screen is back.
func (w *Server) pump(ctx context.Context, v *view, sw *streamWriter, reconnected bool) (int, error) {
	fb, err := w.s.Framebuffer(w.opts.InFlight)
	if err != nil {
		return 0, err
	}
	defer fb.Close()
	if err := v.attach(fb); err != nil {
		return 0, err
	}
	defer v.attach(nil)
	p := &pumpState{sw: sw, fb: fb, v: v, sel: v.selected()}
	if p.sel >= len(fb.Monitors()) {
		p.sel = -1
	}
	if p.sel >= 0 {
		fb.SelectMonitor(p.sel)
	}
	sw.mu.Lock()
	p.sendLayout()
	sw.mu.Unlock()
	for frames := 0; ; frames++ {
		u, err := fb.Next(ctx)
		if err != nil {
			if c := context.Cause(ctx); c != nil {
				return frames, c
			}
			if errors.Is(err, rdp.ErrTooMuchData) {
				// A hostile or broken agent: the whole session ends, and says why.
				w.log.Warn("the agent overran the screen's bound", "err", err)
				w.s.End(rdp.ErrTooMuchData.Error())
			}
			return frames, w.explain(fmt.Errorf("screen: %w", err))
		}
		if err := p.sendFrame(u); err != nil {
			return frames, err
		}
		if frames == 0 && reconnected {
			w.input.reopenIfLost()
			sw.note(w.input.stateNote())
		}
		if err := waitAck(ctx, v); err != nil {
			return frames + 1, err
		}
	}
}

// pumpState is what one framebuffer channel's pump knows of the page.
type pumpState struct {
	sw     *streamWriter
	fb     *rdp.FramebufferClient
	v      *view
	sel    int             // the monitor shown, -1 for all
	region image.Rectangle // what the page's canvas shows, virtual-screen coordinates
	cursor *rdp.Cursor     // the cursor as the page has it; nil before the first frame
}

// sendFrame writes one update's rectangles, the cursor and the frame's end, as one piece.
func (p *pumpState) sendFrame(u rdp.Update) error {
	p.sw.mu.Lock()
	defer p.sw.mu.Unlock()
	if u.Layout != nil {
		if p.sel >= len(u.Layout) {
			p.sel = -1
			p.fb.SetRegion(image.Rectangle{})
		}
		p.sendLayout()
		// The page's canvas starts over; the agent sends all of it with the next request.
		p.fb.RequestFull()
		u.Rects = []rdp.RectInfo{{X: p.region.Min.X, Y: p.region.Min.Y, W: p.region.Dx(), H: p.region.Dy()}}
	}
	for _, ri := range u.Rects {
		r := image.Rect(ri.X, ri.Y, ri.X+ri.W, ri.Y+ri.H).Intersect(p.region)
		if r.Empty() {
			continue
		}
		if err := p.sw.rect(p.fb, r, p.region.Min); err != nil {
			return err
		}
	}
	if u.Cursor != nil || p.cursor == nil {
		c := p.fb.Cursor()
		if p.cursor == nil || c.Shape != p.cursor.Shape || c.HotX != p.cursor.HotX || c.HotY != p.cursor.HotY {
			p.sw.cursor(c)
		}
		p.sw.json(cursorNote{T: "cursor", X: c.X - p.region.Min.X, Y: c.Y - p.region.Min.Y})
		p.cursor = &c
	}
	p.v.frame++
	return p.sw.frame(p.v.frame)
}

// waitAck waits for the page to draw the last frame. Frames are numbered across monitor
// switches, so a late acknowledgement of an earlier channel's frame cannot stand in for the
// current one.
func waitAck(ctx context.Context, v *view) error {
	for {
		select {
		case n := <-v.ack:
			if n == v.frame {
				return nil
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// sendLayout tells the page the monitors and the region it shows; sw.mu is held.
func (p *pumpState) sendLayout() {
	mons := p.fb.Monitors()
	p.region = p.fb.Bounds()
	if p.sel >= 0 && p.sel < len(mons) {
		p.region = mons[p.sel].Bounds()
	}
	p.sw.json(layoutNote{T: "layout", Monitors: mons, Selected: p.sel, Region: p.region})
}

func viewOf(w *Server, r *http.Request) *view {
	id, _ := strconv.Atoi(r.URL.Query().Get("view"))
	return w.views.get(id)
}

func (w *Server) handleAck(rw http.ResponseWriter, r *http.Request) {
	v := viewOf(w, r)
	if v == nil {
		http.Error(rw, "no such view", http.StatusNotFound)
		return
	}
	n, err := strconv.ParseUint(r.URL.Query().Get("frame"), 10, 32)
	if err != nil {
		http.Error(rw, "bad frame", http.StatusBadRequest)
		return
	}
	select {
	case v.ack <- uint32(n):
	default: // a page acknowledging more than it was sent is only hurting itself
	}
	rw.WriteHeader(http.StatusNoContent)
}

// handleQuality sets the view's quality: auto, sharp or fast (rdp.Quality).
func (w *Server) handleQuality(rw http.ResponseWriter, r *http.Request) {
	v := viewOf(w, r)
	if v == nil {
		http.Error(rw, "no such view", http.StatusNotFound)
		return
	}
	q, err := rdp.ParseQuality(r.URL.Query().Get("mode"))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if err := v.setQuality(q); err != nil {
		w.log.Warn("quality not sent to the agent", "err", err)
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Server) handleMonitor(rw http.ResponseWriter, r *http.Request) {
	v := viewOf(w, r)
	if v == nil {
		http.Error(rw, "no such view", http.StatusNotFound)
		return
	}
	i, err := strconv.Atoi(r.URL.Query().Get("monitor"))
	if err != nil || i < -1 {
		http.Error(rw, "bad monitor", http.StatusBadRequest)
		return
	}
	v.reselect(i)
	rw.WriteHeader(http.StatusNoContent)
}
