package recorder

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
)

// Tap is one desktop channel as the splice carries it.
type Tap struct {
	r   *Recorder
	id  uint64
	typ string
}

// OpenChannel records a desktop channel (protocol.FramebufferChannel or InputChannel) opening
// and returns its tap. The newest framebuffer channel is the one key frames show.
func (r *Recorder) OpenChannel(typ string) *Tap {
	t := &Tap{r: r, id: r.nextChan.Add(1), typ: typ}
	r.enqueue(item{channel: t.id, t: r.now(), opened: typ})
	return t
}

// ToTech wraps the writer the agent's bytes go into on their way to the technician.
func (t *Tap) ToTech(w io.Writer) io.Writer { return &tapWriter{w: w, t: t, toTech: true} }

// ToAgent wraps the writer the technician's bytes go into on their way to the agent. On a
// framebuffer channel it asks the agent for key batches in the viewer's hello, so the recording
// can keep the agent's stream as it crossed and still be played from the middle.
func (t *Tap) ToAgent(w io.Writer) io.Writer {
	tw := &tapWriter{w: w, t: t}
	if t.typ == protocol.FramebufferChannel {
		return &helloAsker{tapWriter: tw}
	}
	return tw
}

// Close records the channel closing.
func (t *Tap) Close() { t.r.enqueue(item{channel: t.id, t: t.r.now(), closed: true}) }

type tapWriter struct {
	w      io.Writer
	t      *Tap
	toTech bool
}

// Write passes p on first; the recorder gets a copy of what went through.
func (tw *tapWriter) Write(p []byte) (int, error) {
	n, err := tw.w.Write(p)
	if n > 0 && !tw.t.r.stopped.Load() {
		tw.t.r.enqueue(item{channel: tw.t.id, t: tw.t.r.now(), data: bytes.Clone(p[:n]), toTech: tw.toTech})
	}
	return n, err
}

// helloAsker holds the viewer's bytes until its first message, the hello, is whole, and passes
// it on asking for key batches (rdp.AskKeyBatches); then it is a tapWriter.
type helloAsker struct {
	*tapWriter
	buf  []byte
	done bool
}

// maxHello bounds what is held for the hello: past it the bytes pass as they are.
const maxHello = 1 << 10

func (h *helloAsker) Write(p []byte) (int, error) {
	if h.done {
		return h.tapWriter.Write(p)
	}
	h.buf = append(h.buf, p...)
	n := 0
	if len(h.buf) >= 4 {
		n = 4 + int(binary.BigEndian.Uint32(h.buf))
	}
	if n == 0 || (len(h.buf) < n && n <= maxHello) {
		return len(p), nil
	}
	out := h.buf
	if n <= maxHello {
		out = append(rdp.AskKeyBatches(h.buf[:n]), h.buf[n:]...)
	}
	h.done, h.buf = true, nil
	// The recorder gets the hello before the agent does, so it has it before the agent's
	// answer, which tells it whether key batches come.
	t := h.t
	if !t.r.stopped.Load() {
		t.r.enqueue(item{channel: t.id, t: t.r.now(), data: bytes.Clone(out)})
	}
	if _, err := h.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// channelState is what the recorder's goroutine keeps of one channel.
type channelState struct {
	r        *Recorder
	id       uint64
	typ      string
	up, down rdp.Framer
	unstream rdp.Unstreamer // the agent's framebuffer stream, opened so key frames can start anywhere
	broken   bool
	// The framebuffer channel's hellos; crossed: the agent sends key batches, so its stream is
	// kept as it crossed, each key batch of the followed channel starting a chunk, and the
	// recorder keeps no screen of its own.
	viewerHello []byte
	agentHello  []byte
	crossed     bool

	// Kept while this is the followed framebuffer channel.
	dec          *rdp.Decoder
	pending      [][]byte // screen messages since the decoder last caught up
	pendingBytes int
	lastKey      time.Duration
	keySize      int // what the last key frame took on disk; a guess before the first
}

func (r *Recorder) openChannel(it item) {
	cs := &channelState{r: r, id: it.channel, typ: it.opened, keySize: 1 << 20}
	r.channels[it.channel] = cs
	if !r.check(r.w.Add(recording.KindChannel, it.t, it.channel, mustJSON(recording.Channel{Type: it.opened}))) {
		return
	}
	if it.opened == protocol.FramebufferChannel {
		r.followChannel(cs, it.t)
	}
}

func (r *Recorder) followChannel(cs *channelState, t time.Duration) {
	if r.follow != nil {
		r.follow.stopFollowing()
	}
	dec, err := rdp.NewDecoder()
	if err != nil {
		r.log.Warn("recording without key frames", "err", err)
		return
	}
	cs.dec, cs.lastKey, r.follow = dec, t, cs
}

func (cs *channelState) stopFollowing() {
	if cs.dec != nil {
		cs.dec.Close()
	}
	cs.dec, cs.pending, cs.pendingBytes = nil, nil, 0
}

func (r *Recorder) closeChannel(it item) {
	cs := r.channels[it.channel]
	if cs == nil {
		return
	}
	delete(r.channels, it.channel)
	cs.unstream.Close()
	if r.follow == cs {
		cs.stopFollowing()
		r.follow = nil
	}
	r.check(r.w.Add(recording.KindChannel, it.t, it.channel, mustJSON(recording.Channel{Type: cs.typ, Closed: true})))
}

// feed splits a tap's bytes into messages and records each.
func (cs *channelState) feed(it item) {
	if cs.broken {
		return
	}
	f := &cs.up
	if it.toTech {
		f = &cs.down
	}
	var inner error
	err := f.Feed(it.data, func(msg []byte) {
		if inner != nil {
			return
		}
		if cs.typ == protocol.FramebufferChannel {
			inner = cs.framebuffer(it, msg)
			return
		}
		cs.record(it, msg)
	})
	if err == nil {
		err = inner
	}
	if err != nil {
		cs.broken = true
		if cs.r.follow == cs {
			cs.stopFollowing()
			cs.r.follow = nil
		}
		cs.r.check(cs.r.w.Add(recording.KindNote, it.t, cs.id, mustJSON(recording.Note{Text: fmt.Sprintf("channel %d (%s): %v; its bytes are not recorded from here on", cs.id, cs.typ, err)})))
	}
}

// framebuffer records one message of a framebuffer channel: the agent's stream as it crossed
// when the agent sends key batches, else the messages inside it.
func (cs *channelState) framebuffer(it item, msg []byte) error {
	r := cs.r
	switch {
	case !it.toTech:
		if cs.viewerHello == nil {
			cs.viewerHello = bytes.Clone(msg)
		}
	case cs.agentHello == nil:
		cs.agentHello = bytes.Clone(msg)
		if cs.crossed = rdp.KeyBatches(cs.viewerHello, msg); cs.crossed && cs.dec != nil {
			cs.stopFollowing() // the agent's key batches take the key frames' place
		}
	case cs.crossed:
		if r.Err() != nil {
			return nil
		}
		if r.follow == cs && rdp.StartsKeyBatch(msg) && !r.check(r.w.StartKeyFrame()) {
			return nil
		}
		r.check(r.w.AddCompressed(recording.KindScreen, it.t, cs.id, msg))
		return nil
	default:
		return cs.unstream.Feed(msg, func(m []byte) { cs.record(it, m) })
	}
	cs.record(it, msg)
	return nil
}

func (cs *channelState) record(it item, msg []byte) {
	r := cs.r
	if r.Err() != nil {
		return
	}
	kind := recording.KindScreenRequest
	switch {
	case cs.typ == protocol.FramebufferChannel && it.toTech:
		kind = recording.KindScreen
	case cs.typ == protocol.InputChannel:
		if text, ok := rdp.IsClipboard(msg); ok {
			c := recording.Clipboard{ToAgent: !it.toTech, Size: len(text)}
			if r.opts.ClipboardText {
				c.Text = text
			}
			r.check(r.w.Add(recording.KindClipboard, it.t, cs.id, mustJSON(c)))
			return
		}
		kind = recording.KindInput
		if it.toTech {
			kind = recording.KindInputReply
		}
	}
	if !r.check(r.w.Add(kind, it.t, cs.id, msg)) {
		return
	}
	if kind == recording.KindScreen && cs.dec != nil {
		cs.follow(it.t, msg)
	}
}

// follow keeps a screen message for the decoder and writes a key frame when one is due: at the
// end of an update, once the messages since the last key frame outweigh it KeyFrameRatio times.
func (cs *channelState) follow(t time.Duration, msg []byte) {
	o := cs.r.opts
	cs.pending = append(cs.pending, bytes.Clone(msg))
	cs.pendingBytes += len(msg)
	end := rdp.MessageName(msg) == "update-end"
	due := end && cs.pendingBytes >= o.KeyFrameRatio*cs.keySize && t-cs.lastKey >= o.KeyFrameMin
	if !due && cs.pendingBytes < o.MaxPending {
		return
	}
	err := cs.dec.ApplyAll(cs.pending)
	cs.pending, cs.pendingBytes = nil, 0
	if err != nil {
		cs.r.check(cs.r.w.Add(recording.KindNote, t, cs.id, mustJSON(recording.Note{Text: fmt.Sprintf("no more key frames: the screen does not decode: %v", err)})))
		cs.stopFollowing()
		cs.r.follow = nil
		return
	}
	if end {
		cs.keyFrame(t)
	}
}

// keyFrame writes the decoder's screen as key-frame records starting a chunk of their own.
func (cs *channelState) keyFrame(t time.Duration) {
	w := cs.r.w
	before := w.Summary().Bytes
	if !cs.r.check(w.StartKeyFrame()) {
		return
	}
	var f rdp.Framer
	var err error
	f.Feed(cs.dec.AppendKeyFrame(nil), func(msg []byte) {
		if err == nil {
			err = w.Add(recording.KindKeyFrame, t, cs.id, msg)
		}
	})
	if err == nil {
		err = w.Flush()
	}
	if cs.r.check(err) {
		cs.keySize, cs.lastKey = max(int(w.Summary().Bytes-before), 1), t
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the package's own types pass here
	}
	return b
}
