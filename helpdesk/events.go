package helpdesk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// changeEvent is one server-sent event of the request list: a request that changed. The page
// fetches the list again on it, and may raise a notification for a new one; the text is for
// that notification, which the browser shows as plain text.
type changeEvent struct {
	Code     string `json:"code"`
	Change   string `json:"change"` // the audit event's kind: request.filed, …
	FullName string `json:"full_name"`
	Summary  string `json:"summary"`
}

// sseKeepalive is how often an idle event stream sends a comment, so proxies keep it open and a
// signed-out session's stream ends.
const sseKeepalive = 25 * time.Second

// requestEvents streams request changes as server-sent events (text/event-stream) until the
// browser goes, or its session ends: no websocket, only a long response.
func (s *Server) requestEvents(w http.ResponseWriter, r *http.Request, sess *session) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx would hold the stream back otherwise
	w.WriteHeader(http.StatusOK)
	changes := s.cfg.Gateway.WatchRequests(r.Context())
	fmt.Fprint(w, ": watching\n\n")
	if rc.Flush() != nil {
		return
	}
	keep := time.NewTicker(sseKeepalive)
	defer keep.Stop()
	for {
		select {
		case ch, ok := <-changes:
			if !ok {
				return
			}
			if _, ok := s.currentSession(r); !ok {
				return
			}
			ev := changeEvent{Code: ch.Code, Change: ch.Kind}
			if req, err := s.cfg.Store.Request(ch.Code); err == nil {
				ev.FullName, ev.Summary = req.FullName, summary(req.Message, 80)
			}
			data, _ := json.Marshal(ev) // escapes <, > and & too
			fmt.Fprintf(w, "event: request\ndata: %s\n\n", data)
		case <-keep.C:
			if _, ok := s.currentSession(r); !ok {
				return
			}
			fmt.Fprint(w, ": keepalive\n\n")
		case <-r.Context().Done():
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}
