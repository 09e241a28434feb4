// Package recorder keeps a one-time session's recording at the gateway: it taps the bytes the
// splice already carries (desktop channels both ways, as they crossed, never re-encoded), adds
// the SFTP operations, clipboard sizes and consent answers the gateway sees, and writes them in
// the internal/recording format. It asks the agent for key batches (rdp.AskKeyBatches) and
// keeps the agent's stream as it crossed, each key batch starting a chunk a player can seek to;
// for an agent that sends none, it opens the stream and keeps its own copy of the screen with
// rdp's decoder, caught up only when a key frame of its own is due.
//
// Taps never wait on the disk: they queue copies for the recorder's goroutine, which holds a
// bounded amount (the queue, one chunk, the screen and the messages since the last key frame,
// at most MaxPending). When writing fails the recording stops, Failed is closed, and the taps
// drop what they get; the session decides whether it may go on.
package recorder

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistkit/assist/internal/recording"
)

// Options are a recorder's settings; zero values take the defaults shown.
type Options struct {
	Logger *slog.Logger
	// ClipboardText keeps clipboard text in the recording; without it only sizes.
	ClipboardText bool
	// KeyFrameRatio: a key frame is written once the screen messages since the last one add up
	// to this many times its size (20), so key frames cost about 5% of what crossed.
	KeyFrameRatio int
	// KeyFrameMin is the least time between key frames (2s).
	KeyFrameMin time.Duration
	// MaxPending bounds the screen messages held for the next key frame (32 MiB); past it they
	// are applied to the recorder's screen at once.
	MaxPending int
	// FlushEvery writes the open chunk at least this often (2s), so a crash loses little.
	FlushEvery time.Duration
	// Clock is the time since the recording started; nil reads the monotonic clock. Benchmarks
	// that synthesise long recordings pass their own.
	Clock func() time.Duration
	// Create opens the recording's file; nil creates it, failing if it exists. Tests pass one
	// that fails like a full disk.
	Create func(path string) (io.WriteCloser, error)
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.KeyFrameRatio <= 0 {
		o.KeyFrameRatio = 20
	}
	if o.KeyFrameMin <= 0 {
		o.KeyFrameMin = 2 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 32 << 20
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 2 * time.Second
	}
	if o.Create == nil {
		o.Create = func(path string) (io.WriteCloser, error) {
			return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		}
	}
}

// Path is where the recording of session id lives in dir.
func Path(dir, id string) string { return filepath.Join(dir, id+".rec") }

// item is one thing queued for the recorder's goroutine.
type item struct {
	kind    recording.Kind
	t       time.Duration
	channel uint64
	data    []byte
	toTech  bool // a tap: split into messages first
	opened  string
	closed  bool
	end     bool
}

// Recorder records one session.
type Recorder struct {
	opts  Options
	log   *slog.Logger
	start time.Time
	path  string

	q        chan item
	done     chan struct{}
	failed   chan struct{}
	failOnce sync.Once
	err      atomic.Pointer[error]
	closing  sync.Once
	stopped  atomic.Bool
	nextChan atomic.Uint64

	// Owned by the goroutine.
	f        io.WriteCloser
	w        *recording.Writer
	channels map[uint64]*channelState
	follow   *channelState // the newest framebuffer channel: the one key frames show
	summary  recording.Summary
	closeErr error
}

// Start creates the recording of the session described by meta in dir and writes its meta. An
// error means there is no recording.
func Start(dir string, meta recording.Meta, opts Options) (*Recorder, error) {
	opts.defaults()
	meta.ClipboardText = opts.ClipboardText
	path := Path(dir, meta.Session)
	f, err := opts.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	w, err := recording.NewWriter(f)
	if err == nil {
		raw, _ := json.Marshal(meta)
		if err = w.Add(recording.KindMeta, 0, 0, raw); err == nil {
			err = w.Flush()
		}
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("start recording %s: %w", path, err)
	}
	r := &Recorder{opts: opts, log: opts.Logger, start: time.Now(), path: path, q: make(chan item, 256),
		done: make(chan struct{}), failed: make(chan struct{}), f: f, w: w, channels: map[uint64]*channelState{}}
	go r.run()
	return r, nil
}

// File is the recording's path.
func (r *Recorder) File() string { return r.path }

// Failed is closed when the recording stopped because writing failed; Err says why.
func (r *Recorder) Failed() <-chan struct{} { return r.failed }

// Err is why writing failed, or nil.
func (r *Recorder) Err() error {
	if p := r.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (r *Recorder) now() time.Duration {
	if r.opts.Clock != nil {
		return r.opts.Clock()
	}
	return time.Since(r.start)
}

// enqueue hands an item to the goroutine; after a failure or Close it is dropped.
func (r *Recorder) enqueue(it item) {
	if r.stopped.Load() {
		return
	}
	select {
	case r.q <- it:
	case <-r.done:
	}
}

// add records a JSON value of kind now.
func (r *Recorder) add(kind recording.Kind, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		return
	}
	r.enqueue(item{kind: kind, t: r.now(), data: raw})
}

// FileOp records an SFTP operation as the audit trail has it.
func (r *Recorder) FileOp(kind string, attrs map[string]string) {
	r.add(recording.KindFile, map[string]any{"kind": kind, "attrs": attrs})
}

// Consent records the person's answer or a change of it.
func (r *Recorder) Consent(grant, note string) {
	r.add(recording.KindConsent, map[string]string{"grant": grant, "note": note})
}

// Close records why the recording ends, writes what is left and returns what seals the file.
// It may be called more than once; later calls return the first result.
func (r *Recorder) Close(why string) (recording.Summary, error) {
	r.closing.Do(func() {
		r.add(recording.KindNote, recording.Note{Text: why})
		r.stopped.Store(true) // taps from now on drop what they get
		select {
		case r.q <- item{end: true}:
		case <-r.done:
		}
	})
	<-r.done
	return r.summary, r.closeErr
}

// run is the recorder's goroutine.
func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.opts.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case it := <-r.q:
			if it.end {
				r.finish()
				return
			}
			r.handle(it)
		case <-tick.C:
			if r.Err() == nil {
				r.check(r.w.Flush())
			}
		}
	}
}

func (r *Recorder) finish() {
	for _, cs := range r.channels {
		cs.unstream.Close()
		cs.stopFollowing()
	}
	if r.Err() != nil {
		r.summary = r.w.Summary()
		r.closeErr = r.Err()
		r.f.Close()
		return
	}
	sum, err := r.w.Close()
	if cerr := r.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close recording: %w", cerr)
	}
	r.summary, r.closeErr = sum, err
	if err != nil {
		r.fail(err)
	}
}

// check stops the recording at the first write error.
func (r *Recorder) check(err error) bool {
	if err == nil {
		return true
	}
	r.fail(err)
	return false
}

func (r *Recorder) fail(err error) {
	r.failOnce.Do(func() {
		r.err.Store(&err)
		r.stopped.Store(true)
		r.log.Warn("recording stopped", "file", r.path, "err", err)
		close(r.failed)
	})
}

func (r *Recorder) handle(it item) {
	if r.Err() != nil {
		return
	}
	switch {
	case it.opened != "":
		r.openChannel(it)
	case it.closed:
		r.closeChannel(it)
	case it.kind == 0: // a tap's bytes
		if cs := r.channels[it.channel]; cs != nil {
			cs.feed(it)
		}
	default:
		r.check(r.w.Add(it.kind, it.t, it.channel, it.data))
	}
}
