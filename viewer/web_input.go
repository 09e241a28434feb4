package viewer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// controller is the input side of the session as the page drives it: rdp's input client, once
// the person allowed control.
type controller interface {
	Key(keysym uint32, down bool) error
	Pointer(x, y int, buttons uint8) error
	Scroll(dx, dy int) error
	Close() error
}

// clipboarder is the optional clipboard capability of a controller.
type clipboarder interface {
	SetClipboard(text string) error
	Clipboard(ctx context.Context) (string, error)
}

// pinger is the optional capability of timing a round trip to the agent over the input path.
type pinger interface {
	Ping(ctx context.Context) (time.Duration, error)
}

// inputSide opens the input channel on first use and remembers why it could not.
type inputSide struct {
	s    *Session
	log  *slog.Logger
	open func(*Session) (controller, error)

	once sync.Once
	ctl  controller
	why  string // why there is no control: the person allowed view only, or the channel failed
}

func newInputSide(s *Session, log *slog.Logger) *inputSide {
	return &inputSide{s: s, log: log, open: openController}
}

func (in *inputSide) get() (controller, string) {
	in.once.Do(func() {
		c, err := in.open(in.s)
		if err != nil {
			in.why = err.Error()
			in.log.Info("no control of the desktop", "why", in.why)
			return
		}
		in.ctl = c
	})
	return in.ctl, in.why
}

func (in *inputSide) close() {
	if c, _ := in.get(); c != nil {
		c.Close()
	}
}

// stateNote tells the page whether it may send input.
type stateNoteT struct {
	T         string `json:"t"` // "state"
	Control   bool   `json:"control"`
	Clipboard bool   `json:"clipboard"`
	Why       string `json:"why,omitempty"`
}

func (in *inputSide) stateNote() stateNoteT {
	c, why := in.get()
	_, clip := c.(clipboarder)
	return stateNoteT{T: "state", Control: c != nil, Clipboard: clip, Why: why}
}

// inputEvent is one event of a batch the page posts; exactly one field is set.
//
//	{"k":[keysym, 1|0]}   key down or up
//	{"p":[x, y, mask]}    pointer at virtual-screen x, y with buttons (bit 0 left, 1 middle, 2 right)
//	{"w":[dx, dy]}        wheel notches (dy > 0 down)
type inputEvent struct {
	K []int64 `json:"k,omitempty"`
	P []int64 `json:"p,omitempty"`
	W []int64 `json:"w,omitempty"`
}

// maxInputBody bounds one batch; the page sends at most a few hundred events at once.
const maxInputBody = 64 << 10

func (ev inputEvent) apply(c controller) error {
	switch {
	case len(ev.K) == 2:
		if ev.K[0] <= 0 || ev.K[0] > 0x1fffffff {
			return fmt.Errorf("bad keysym %d", ev.K[0])
		}
		return c.Key(uint32(ev.K[0]), ev.K[1] != 0)
	case len(ev.P) == 3:
		return c.Pointer(int(ev.P[0]), int(ev.P[1]), uint8(ev.P[2]&7))
	case len(ev.W) == 2:
		return c.Scroll(int(clampNotches(ev.W[0])), int(clampNotches(ev.W[1])))
	}
	return errors.New("bad input event")
}

func clampNotches(v int64) int64 { return min(max(v, -100), 100) }

// handleInput applies a batch of events in order. The page sends one batch at a time, so key
// downs and ups never overtake each other on parallel connections.
func (w *Web) handleInput(rw http.ResponseWriter, r *http.Request) {
	c, why := w.input.get()
	if c == nil {
		http.Error(rw, "no control: "+why, http.StatusForbidden)
		return
	}
	var evs []inputEvent
	if err := json.NewDecoder(io.LimitReader(r.Body, maxInputBody)).Decode(&evs); err != nil {
		http.Error(rw, "bad input batch", http.StatusBadRequest)
		return
	}
	for _, ev := range evs {
		if err := ev.apply(c); err != nil {
			w.log.Info("input event failed", "err", err)
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
	}
	rw.WriteHeader(http.StatusNoContent)
}

// handlePing times a round trip: to the agent over the input path when the input side can,
// else to the gateway (an SSH keepalive), and says which.
func (w *Web) handlePing(rw http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	to := "gateway"
	var d time.Duration
	var err error
	if p, ok := w.input.ctlAs().(pinger); ok {
		to = "desktop"
		d, err = p.Ping(ctx)
	} else {
		start := time.Now()
		_, _, err = w.s.SendRequest("keepalive@openssh.com", true, nil)
		d = time.Since(start)
	}
	if err != nil {
		http.Error(rw, "ping: "+err.Error(), http.StatusBadGateway)
		return
	}
	writeJSON(rw, map[string]any{"ms": float64(d.Microseconds()) / 1000, "to": to})
}

func (in *inputSide) ctlAs() any {
	c, _ := in.get()
	return c
}

func (w *Web) handleClipboardSet(rw http.ResponseWriter, r *http.Request) {
	cb, ok := w.input.ctlAs().(clipboarder)
	if !ok {
		http.Error(rw, "the remote clipboard is not available", http.StatusForbidden)
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(rw, "bad clipboard text", http.StatusBadRequest)
		return
	}
	if err := cb.SetClipboard(body.Text); err != nil {
		http.Error(rw, "clipboard: "+err.Error(), http.StatusBadGateway)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Web) handleClipboardGet(rw http.ResponseWriter, r *http.Request) {
	cb, ok := w.input.ctlAs().(clipboarder)
	if !ok {
		http.Error(rw, "the remote clipboard is not available", http.StatusForbidden)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	text, err := cb.Clipboard(ctx)
	if err != nil {
		http.Error(rw, "clipboard: "+err.Error(), http.StatusBadGateway)
		return
	}
	writeJSON(rw, map[string]string{"text": text})
}

func writeJSON(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(v)
}
