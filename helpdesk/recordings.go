package helpdesk

import (
	"strings"
	"time"

	"github.com/assistkit/assist/tickets"
)

// Recordings is what the connect screen shows of a request's session recordings, to the roles
// that may read them (tickets.ReadRecordings). Nil in Config shows none. They are played on the
// technician's computer (assist recording play ID): the player is the viewer's, which the
// gateway's binary does not carry.
type Recordings interface {
	// RequestRecordings lists request code's recordings, newest first.
	RequestRecordings(code string) ([]Recording, error)
}

// Recording is one recording as the connect screen lists it.
type Recording struct {
	ID, Technician string
	Started        time.Time
	Duration       string
	Bytes          int64
	// Status is recording list's: "ok", "recording" (the session goes on), "TAMPERED: …",
	// "DAMAGED: …", "MISSING", "unsealed", "deleted", "pruned".
	Status string
}

// Playable reports whether the recording can be played: its file is there and its session has
// ended (a damaged one plays up to the damage).
func (r Recording) Playable() bool {
	return r.Status == "ok" || r.Status == "unsealed" || strings.HasPrefix(r.Status, "DAMAGED") || strings.HasPrefix(r.Status, "TAMPERED")
}

type recordingView struct {
	Recording
	StartedAt timeView
}

// requestRecordings is the connect screen's list, nil when the role may not see it.
func (s *Server) requestRecordings(sess *session, code string) ([]recordingView, bool) {
	if s.cfg.Recordings == nil || !sess.role.May(tickets.ReadRecordings) {
		return nil, false
	}
	list, err := s.cfg.Recordings.RequestRecordings(code)
	if err != nil {
		s.log.Error("list recordings", "request", code, "err", err)
		return nil, true
	}
	out := make([]recordingView, len(list))
	for i, r := range list {
		out[i] = recordingView{Recording: r, StartedAt: newTimeView(r.Started)}
	}
	return out, true
}
