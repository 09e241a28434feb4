package web

import "time"

// limitNote tells the page that the gateway will end the session: LeftMs from now (0: no end
// is near any more), and why. The page counts down from it.
type limitNote struct {
	T      string `json:"t"`
	LeftMs int64  `json:"left_ms"`
	Why    string `json:"why"`
}

// limitNow is the session's limit as a note, or false when none was ever said.
func (w *Server) limitNow() (limitNote, bool) {
	ends, why, _ := w.s.Limit()
	if ends.IsZero() {
		return limitNote{T: "limit"}, false
	}
	return limitNote{T: "limit", LeftMs: max(time.Until(ends).Milliseconds(), 1), Why: why}, true
}

// watchLimit tells the pages whenever the gateway says an end is near, or no longer near.
func (w *Server) watchLimit() {
	for {
		_, _, changed := w.s.Limit()
		select {
		case <-changed:
			n, _ := w.limitNow()
			w.views.notify(n)
		case <-w.stop:
			return
		}
	}
}
