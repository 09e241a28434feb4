package rdp

import "github.com/assistkit/assist/rdp/internal/wire"

// Fuzzing budgets. Every input within the protocol's limits is legal, but some are slow to
// apply: a 16384×16384 layout is 1 GiB of image, and a hundred full-screen solid or copy
// rectangles on a 10240×10240 one took 12 s, over the 10 s after which Go's fuzzing counts a
// worker as hung. Targets skip inputs over these budgets; what they test is the decoder's
// handling of bad input, which a smaller screen exercises the same way.
const (
	fuzzMaxLayoutPixels = 1 << 20  // of all monitors of one layout
	fuzzMaxRectPixels   = 32 << 20 // of all rectangles of an input, in total
)

// fuzzWork adds up the pixels an input's messages ask a decoder to lay out and to paint.
type fuzzWork struct {
	rectPixels int
	tooMuch    bool
}

// add counts one message of type t with payload p.
func (w *fuzzWork) add(t wire.Type, p []byte) {
	switch t {
	case wire.TLayout:
		var l wire.Layout
		if l.DecodePayload(p) != nil {
			return
		}
		n := 0
		for _, m := range l.Monitors {
			n += int(m.W) * int(m.H)
		}
		if n > fuzzMaxLayoutPixels {
			w.tooMuch = true
		}
	case wire.TRect:
		var r wire.Rect
		if r.DecodePayload(p) != nil {
			return
		}
		w.rectPixels += int(r.W) * int(r.H)
		if w.rectPixels > fuzzMaxRectPixels {
			w.tooMuch = true
		}
	}
}

// addMessage counts one framed message.
func (w *fuzzWork) addMessage(m []byte) {
	if t, p, err := splitMessage(m); err == nil {
		w.add(t, p)
	}
}
