package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"time"
)

// Mode names one way of changing the screen.
type Mode string

// The modes; see the package documentation.
const (
	Full   Mode = "full"
	Typing Mode = "typing"
	Scroll Mode = "scroll"
	Idle   Mode = "idle"
	Video  Mode = "video"
)

// Modes lists every mode, for flags and help text.
var Modes = []Mode{Idle, Typing, Scroll, Full, Video}

// Interval returns how often the mode changes the screen (0 for idle).
func (m Mode) Interval() time.Duration {
	switch m {
	case Full:
		return time.Second / 60
	case Typing:
		return 100 * time.Millisecond
	case Scroll:
		return 50 * time.Millisecond
	case Video:
		return time.Second / 30
	}
	return 0
}

// Change is one record of the output: change N was in the X server at T (Unix ns), covering
// X, Y, W, H, with its marker pixel at (MX, MY).
type Change struct {
	N  int   `json:"n"`
	T  int64 `json:"t"`
	X  int   `json:"x"`
	Y  int   `json:"y"`
	W  int   `json:"w"`
	H  int   `json:"h"`
	MX int   `json:"mx"`
	MY int   `json:"my"`
}

// Options configure Run.
type Options struct {
	Display  string        // X display, ":1"
	Mode     Mode          // what to draw
	Duration time.Duration // how long to keep changing the screen; 0 runs until ctx ends
	Changes  int           // stop after this many changes (besides the initial scene); 0 is no limit
	Out      io.Writer     // JSON lines, one per change; nil discards them
	Logger   *slog.Logger  // nil discards
}

func (o *Options) validate() error {
	switch o.Mode {
	case Full, Typing, Scroll, Idle, Video:
	default:
		return fmt.Errorf("unknown mode %q (want idle, typing, scroll, full or video)", o.Mode)
	}
	if o.Duration < 0 {
		return fmt.Errorf("negative duration %v", o.Duration)
	}
	if o.Changes < 0 {
		return fmt.Errorf("negative change count %d", o.Changes)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run draws the mode's initial scene (change 0), then changes the screen at the mode's pace
// until the duration is over or ctx ends, writing a Change line for each.
func Run(ctx context.Context, opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	s, err := openSurface(opts.Display)
	if err != nil {
		return err
	}
	defer s.close()
	d, err := newDrawer(s, opts.Mode)
	if err != nil {
		return err
	}
	rec := recorder{enc: json.NewEncoder(opts.Out), s: s}
	if err := rec.record(0, d.first()); err != nil {
		return err
	}
	// The duration counts from the initial scene: making full mode's scenes takes a while.
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	opts.Logger.Info("workload started", "mode", opts.Mode, "display", opts.Display,
		"screen", fmt.Sprintf("%dx%d", s.canvas.w, s.canvas.h), "shm", s.useSHM)
	if opts.Mode == Idle {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(opts.Mode.Interval())
	defer tick.Stop()
	for n := 1; opts.Changes == 0 || n <= opts.Changes; n++ {
		select {
		case <-ctx.Done():
			opts.Logger.Info("workload done", "changes", n-1)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && opts.Duration > 0 {
				return nil
			}
			return ctx.Err()
		case <-tick.C:
		}
		if err := rec.record(n, d.change(n)); err != nil {
			return err
		}
	}
	opts.Logger.Info("workload done", "changes", opts.Changes)
	return nil
}

// mark is where a change went: its rectangle and marker pixel.
type mark struct {
	r      image.Rectangle
	mx, my int
}

type recorder struct {
	enc *json.Encoder
	s   *surface
}

// record waits until the server has the change and writes its line.
func (r recorder) record(n int, m mark) error {
	t, err := r.s.sync()
	if err != nil {
		return err
	}
	c := Change{N: n, T: t.UnixNano(), X: m.r.Min.X, Y: m.r.Min.Y, W: m.r.Dx(), H: m.r.Dy(), MX: m.mx, MY: m.my}
	if err := r.enc.Encode(c); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// ReadChanges parses a workload record.
func ReadChanges(r io.Reader) ([]Change, error) {
	var out []Change
	dec := json.NewDecoder(r)
	for {
		var c Change
		err := dec.Decode(&c)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read record %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
}
