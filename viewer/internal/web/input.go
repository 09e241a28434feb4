package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/assistkit/assist/protocol"
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
	s      Session
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

func newInputSide(s Session, log *slog.Logger, notify func(any)) *inputSide {
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
	ic, err := in.s.Input()
	if err != nil {
		in.lose(err)
		return
	}
	in.mu.Lock()
	in.ic, in.control, in.why = ic, !ic.ViewOnly(), ""
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

// reopenIfLost opens the input channel again if it closed under the session (the person's
// agent came back after losing its connection).
func (in *inputSide) reopenIfLost() {
	in.mu.Lock()
	ic := in.ic
	in.mu.Unlock()
	if ic == nil {
		return
	}
	select {
	case <-ic.Done():
		in.open()
	default:
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

// stateNote tells the page what the person allows and whether it may send input.
type stateNoteT struct {
	T         string `json:"t"`                // "state"
	Rights    string `json:"rights,omitempty"` // "view, control, files"; "" while the gateway has not said
	Control   bool   `json:"control"`
	Clipboard bool   `json:"clipboard"`
	SAS       bool   `json:"sas"` // Ctrl+Alt+Del works as keys on the agent's desktop
	Why       string `json:"why,omitempty"`
}

func (in *inputSide) stateNote() stateNoteT {
	in.once.Do(in.open)
	g, _ := in.s.Grant()
	in.mu.Lock()
	defer in.mu.Unlock()
	return stateNoteT{T: "state", Rights: rights(g), Control: in.control, Clipboard: in.control && in.ic.HasClipboard(),
		SAS: in.control && in.ic.SecureAttention(), Why: in.why}
}

// rights names every right of a grant, for the page's status.
func rights(g protocol.Grant) string {
	var parts []string
	switch {
	case g.Allows(protocol.GrantView | protocol.GrantControl):
		parts = append(parts, "view", "control")
	case g.Allows(protocol.GrantView):
		parts = append(parts, "view only")
	}
	switch {
	case g.Allows(protocol.GrantFilesRead | protocol.GrantFilesWrite):
		parts = append(parts, "files")
	case g.Allows(protocol.GrantFilesRead):
		parts = append(parts, "files (read only)")
	}
	return strings.Join(parts, ", ")
}

// watchGrant tells the pages when the person changes what they allow.
func (w *Server) watchGrant() {
	for {
		_, changed := w.s.Grant()
		select {
		case <-changed:
			w.views.notify(w.input.stateNote())
		case <-w.stop:
			return
		}
	}
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

// handleInput applies a batch of events in order. The page sends one batch at a time, so key
// downs and ups never overtake each other on parallel connections.
func (w *Server) handleInput(rw http.ResponseWriter, r *http.Request) {
	c := w.input.get()
	if c == nil {
		http.Error(rw, "no control: "+w.input.stateNote().Why, http.StatusForbidden)
		return
	}
	evs, err := parseInputBatch(r.Body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
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
func (w *Server) handlePing(rw http.ResponseWriter, r *http.Request) {
	d, err := w.s.Ping()
	if err != nil {
		http.Error(rw, "ping: "+err.Error(), http.StatusBadGateway)
		return
	}
	writeJSON(rw, map[string]any{"ms": float64(d.Microseconds()) / 1000, "to": "gateway"})
}

func (w *Server) handleClipboardSet(rw http.ResponseWriter, r *http.Request) {
	ic, err := w.input.clipboard()
	if err != nil {
		http.Error(rw, err.Error(), http.StatusForbidden)
		return
	}
	text, err := parseClipboardBody(r.Body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if err := ic.SetClipboard(text); err != nil {
		http.Error(rw, "clipboard: "+err.Error(), http.StatusBadGateway)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Server) handleClipboardGet(rw http.ResponseWriter, r *http.Request) {
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
