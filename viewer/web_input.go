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

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/rdp"
)

// controller is what the page's input events drive: rdp's input client.
type controller interface {
	Key(keysym uint32, down bool) error
	Pointer(x, y int, buttons uint8) error
	Scroll(dx, dy int) error
}

// inputSide opens the input channel on first use, remembers why it could not, and passes the
// agent's clipboard on to the pages.
type inputSide struct {
	s      *Session
	log    *slog.Logger
	notify func(any)

	once sync.Once
	ic   *rdp.InputClient

	mu      sync.Mutex
	control bool
	why     string        // why there is no control: the person allowed view only, or the channel failed
	clip    string        // the agent's clipboard as last heard
	clipped chan struct{} // closed and replaced when clipboard text arrives
}

func newInputSide(s *Session, log *slog.Logger, notify func(any)) *inputSide {
	return &inputSide{s: s, log: log, notify: notify, clipped: make(chan struct{})}
}

// get opens the channel the first time; it returns nil while the session has no control.
func (in *inputSide) get() controller {
	in.once.Do(in.open)
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.control {
		return nil
	}
	return in.ic
}

func (in *inputSide) open() {
	ch, reqs, err := in.s.OpenChannel(rdp.InputChannel, nil)
	if err != nil {
		in.lose(in.s.explain(ChannelError("control", err)))
		return
	}
	go ssh.DiscardRequests(reqs)
	ic, err := rdp.NewInputClient(ch)
	if err != nil {
		ch.Close()
		in.lose(fmt.Errorf("control: %w", err))
		return
	}
	in.mu.Lock()
	in.ic, in.control = ic, !ic.ViewOnly()
	if ic.ViewOnly() {
		in.why = "the person allowed viewing only"
	}
	in.mu.Unlock()
	go in.watch(ic)
}

// watch forwards the agent's clipboard and notices the channel ending.
func (in *inputSide) watch(ic *rdp.InputClient) {
	for {
		select {
		case text := <-ic.Clipboard():
			in.mu.Lock()
			in.clip = text
			close(in.clipped)
			in.clipped = make(chan struct{})
			in.mu.Unlock()
			in.notify(clipboardNote{T: "clipboard", Text: text})
		case <-ic.Done():
			in.lose(fmt.Errorf("control ended: %w", ic.Err()))
			in.notify(in.stateNote())
			return
		}
	}
}

func (in *inputSide) lose(err error) {
	in.log.Info("no control of the desktop", "why", err)
	in.mu.Lock()
	in.control, in.why = false, err.Error()
	in.mu.Unlock()
}

func (in *inputSide) close() {
	in.mu.Lock()
	ic := in.ic
	in.mu.Unlock()
	if ic != nil {
		ic.Close()
	}
}

type clipboardNote struct {
	T    string `json:"t"` // "clipboard"
	Text string `json:"text"`
}

// stateNote tells the page whether it may send input.
type stateNoteT struct {
	T         string `json:"t"` // "state"
	Control   bool   `json:"control"`
	Clipboard bool   `json:"clipboard"`
	Why       string `json:"why,omitempty"`
}

func (in *inputSide) stateNote() stateNoteT {
	in.once.Do(in.open)
	in.mu.Lock()
	defer in.mu.Unlock()
	return stateNoteT{T: "state", Control: in.control, Clipboard: in.control && in.ic.HasClipboard(), Why: in.why}
}

// clipboard is the input client when it shares the agent's clipboard.
func (in *inputSide) clipboard() (*rdp.InputClient, error) {
	in.once.Do(in.open)
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.control || !in.ic.HasClipboard() {
		return nil, errors.New("the remote clipboard is not available")
	}
	return in.ic, nil
}

// fetchClipboard asks the agent for its clipboard and waits for the answer.
func (in *inputSide) fetchClipboard(ctx context.Context) (string, error) {
	ic, err := in.clipboard()
	if err != nil {
		return "", err
	}
	in.mu.Lock()
	arrived := in.clipped
	in.mu.Unlock()
	if err := ic.RequestClipboard(); err != nil {
		return "", err
	}
	select {
	case <-arrived:
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.clip, nil
	case <-ic.Done():
		return "", ic.Err()
	case <-ctx.Done():
		return "", fmt.Errorf("no answer from the agent: %w", ctx.Err())
	}
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
	c := w.input.get()
	if c == nil {
		http.Error(rw, "no control: "+w.input.stateNote().Why, http.StatusForbidden)
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

// handlePing times a round trip to the gateway (an SSH keepalive, which the gateway answers
// itself). The protocol has no ping to the agent; the page adds the input-to-screen time it
// sees when the pointer moves, which crosses both hops twice.
func (w *Web) handlePing(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if _, _, err := w.s.SendRequest("keepalive@openssh.com", true, nil); err != nil {
		http.Error(rw, "ping: "+err.Error(), http.StatusBadGateway)
		return
	}
	d := time.Since(start)
	writeJSON(rw, map[string]any{"ms": float64(d.Microseconds()) / 1000, "to": "gateway"})
}

func (w *Web) handleClipboardSet(rw http.ResponseWriter, r *http.Request) {
	ic, err := w.input.clipboard()
	if err != nil {
		http.Error(rw, err.Error(), http.StatusForbidden)
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(rw, "bad clipboard text", http.StatusBadRequest)
		return
	}
	if err := ic.SetClipboard(body.Text); err != nil {
		http.Error(rw, "clipboard: "+err.Error(), http.StatusBadGateway)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Web) handleClipboardGet(rw http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	text, err := w.input.fetchClipboard(ctx)
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
