package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The bodies the page POSTs are parsed here, whole and checked, before anything reaches the
// agent: a batch with one bad event applies none of them.

// inputEvent is one event of a batch the page posts to /input; exactly one field is set.
//
//	{"k":[keysym, 1|0]}   key down or up
//	{"p":[x, y, mask]}    pointer at virtual-screen x, y with buttons (bit 0 left, 1 middle, 2 right)
//	{"w":[dx, dy]}        wheel notches (dy > 0 down)
type inputEvent struct {
	K []int64 `json:"k,omitempty"`
	P []int64 `json:"p,omitempty"`
	W []int64 `json:"w,omitempty"`
}

// Limits of the bodies. The page sends at most a few hundred events at once; clipboard text is
// bounded by the protocol's 1 MiB, and JSON may spell a byte in up to six.
const (
	maxInputBody     = 64 << 10
	maxClipboardBody = 6<<20 + 64
	maxClipboardText = 1 << 20
	maxKeysym        = 0x1fffffff // X11 keysyms are 29 bits
	maxCoord         = 1 << 15    // the protocol's coordinate bound
	maxNotches       = 100        // wheel notches in one event
)

// parseInputBatch reads an /input body: a JSON array of events, each of them checked.
func parseInputBatch(r io.Reader) ([]inputEvent, error) {
	body, err := readBody(r, maxInputBody)
	if err != nil {
		return nil, fmt.Errorf("input batch: %w", err)
	}
	var evs []inputEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		return nil, fmt.Errorf("input batch: %w", err)
	}
	for i, ev := range evs {
		if err := ev.check(); err != nil {
			return nil, fmt.Errorf("input batch: event %d: %w", i, err)
		}
	}
	return evs, nil
}

func (ev inputEvent) check() error {
	switch {
	case ev.K != nil && ev.P == nil && ev.W == nil:
		if len(ev.K) != 2 || ev.K[0] <= 0 || ev.K[0] > maxKeysym || ev.K[1] < 0 || ev.K[1] > 1 {
			return fmt.Errorf("bad key event %v", ev.K)
		}
	case ev.P != nil && ev.K == nil && ev.W == nil:
		if len(ev.P) != 3 || !inRange(ev.P[0], maxCoord) || !inRange(ev.P[1], maxCoord) || ev.P[2] < 0 || ev.P[2] > 7 {
			return fmt.Errorf("bad pointer event %v", ev.P)
		}
	case ev.W != nil && ev.K == nil && ev.P == nil:
		if len(ev.W) != 2 || !inRange(ev.W[0], maxNotches) || !inRange(ev.W[1], maxNotches) {
			return fmt.Errorf("bad wheel event %v", ev.W)
		}
	default:
		return errors.New("an event is one of k, p or w")
	}
	return nil
}

func inRange(v, limit int64) bool { return v >= -limit && v <= limit }

// apply sends a checked event.
func (ev inputEvent) apply(c controller) error {
	switch {
	case ev.K != nil:
		return c.Key(uint32(ev.K[0]), ev.K[1] == 1)
	case ev.P != nil:
		return c.Pointer(int(ev.P[0]), int(ev.P[1]), uint8(ev.P[2]))
	default:
		return c.Scroll(int(ev.W[0]), int(ev.W[1]))
	}
}

// parseClipboardBody reads a /clipboard body, {"text": "…"}.
func parseClipboardBody(r io.Reader) (string, error) {
	body, err := readBody(r, maxClipboardBody)
	if err != nil {
		return "", fmt.Errorf("clipboard text: %w", err)
	}
	var m struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return "", fmt.Errorf("clipboard text: %w", err)
	}
	switch {
	case m.Text == nil:
		return "", errors.New("clipboard text: no text")
	case len(*m.Text) > maxClipboardText:
		return "", fmt.Errorf("clipboard text: %d bytes, at most %d", len(*m.Text), maxClipboardText)
	}
	return *m.Text, nil
}

// readBody reads all of r, refusing more than limit bytes.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("over %d bytes", limit)
	}
	return body, nil
}
