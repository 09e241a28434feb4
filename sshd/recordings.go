package sshd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/sshd/internal/commands"
	"github.com/assistkit/assist/sshd/internal/recorder"
	"github.com/assistkit/assist/tickets"
)

// RecordingView is one recording as "recording list" shows it.
type RecordingView = commands.RecordingView

// ListRecordings lists the recordings the audit trail knows of (of one request when code is
// not empty), each checked against the hash the trail sealed it with.
func ListRecordings(store tickets.Store, dir, code string, live func(id string) bool) ([]RecordingView, error) {
	events, err := store.Events(tickets.EventFilter{Kind: "recording.", Request: code})
	if err != nil {
		return nil, err
	}
	byID := map[string]*RecordingView{}
	var order []string
	for _, e := range events {
		id := e.Attrs["credential"]
		v := byID[id]
		if v == nil {
			if e.Kind != "recording.started" {
				continue
			}
			v = &RecordingView{ID: id, Request: e.Request, Technician: e.Actor, Started: e.Time, Status: "unsealed"}
			byID[id] = v
			order = append(order, id)
		}
		switch e.Kind {
		case "recording.saved":
			v.Hash, v.Status = e.Attrs["hash"], ""
			v.Bytes, _ = strconv.ParseInt(e.Attrs["bytes"], 10, 64)
			ms, _ := strconv.ParseInt(e.Attrs["duration_ms"], 10, 64)
			v.Duration = (time.Duration(ms) * time.Millisecond).Round(time.Second).String()
		case "recording.deleted", "recording.pruned":
			v.Status = strings.TrimPrefix(e.Kind, "recording.")
		case "recording.failed":
			v.Note = e.Attrs["reason"]
		}
	}
	out := make([]RecordingView, 0, len(order))
	for _, id := range order {
		v := byID[id]
		switch {
		case v.Status == "deleted" || v.Status == "pruned":
		case live != nil && live(id):
			v.Status = "recording"
		default:
			v.Status = checkRecording(recorder.Path(dir, id), v.Hash)
		}
		out = append(out, *v)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out, nil
}

// checkRecording reads a recording again and compares it with the hash it was sealed with
// (empty: it never was): "ok", or what is wrong.
func checkRecording(path, sealed string) string {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "MISSING: the file is gone"
	}
	if err != nil {
		return "UNREADABLE: " + err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "UNREADABLE: " + err.Error()
	}
	r, err := recording.Open(f, st.Size())
	if err != nil {
		return "DAMAGED: " + err.Error()
	}
	defer r.Close()
	sum, err := r.Verify()
	switch {
	case err != nil:
		return "DAMAGED: " + err.Error()
	case sealed == "":
		return "unsealed: the gateway stopped before the session ended"
	case sum.Hash.String() != sealed:
		return fmt.Sprintf("TAMPERED: the file's hash %.12s… is not the audit trail's %.12s… (edited, cut or replaced)", sum.Hash, sealed)
	}
	return "ok"
}

// CheckRecordings is assistd check's part for recordings: every sealed one read again. It
// returns how many it checked and a line for each problem.
func CheckRecordings(store tickets.Store, dir string) (int, []string, error) {
	list, err := ListRecordings(store, dir, "", nil)
	if err != nil {
		return 0, nil, err
	}
	var problems []string
	n := 0
	for _, v := range list {
		if v.Status == "deleted" || v.Status == "pruned" {
			continue
		}
		n++
		if v.Status != "ok" {
			problems = append(problems, fmt.Sprintf("recording %s (request %s): %s", v.ID, v.Request, v.Status))
		}
	}
	return n, problems, nil
}

var recordingID = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

// gatewayRecordings is the command tree's view of the recordings.
type gatewayRecordings struct{ s *Server }

func (g gatewayRecordings) List(code string) ([]RecordingView, error) {
	return ListRecordings(g.s.cfg.Store, g.s.cfg.Record.Dir, code, g.s.recordingLive)
}

func (g gatewayRecordings) Open(id string) (io.ReadCloser, int64, error) {
	if !recordingID.MatchString(id) {
		return nil, 0, fmt.Errorf("recording %q: not a recording ID (recording list shows them)", id)
	}
	f, err := os.Open(recorder.Path(g.s.cfg.Record.Dir, id))
	if err != nil {
		return nil, 0, fmt.Errorf("recording %s: %w", id, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (g gatewayRecordings) Delete(id, by string) error {
	r, _, err := g.Open(id)
	if err != nil {
		return err
	}
	r.Close()
	if g.s.recordingLive(id) {
		return fmt.Errorf("recording %s: the session is still going on", id)
	}
	return g.s.removeRecording(id, "recording.deleted", by)
}

func (s *Server) removeRecording(id, kind, by string) error {
	path := recorder.Path(s.cfg.Record.Dir, id)
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove recording: %w", err)
	}
	request := ""
	if evs, err := s.cfg.Store.Events(tickets.EventFilter{Kind: "recording.started"}); err == nil {
		for _, e := range evs {
			if e.Attrs["credential"] == id {
				request = e.Request
			}
		}
	}
	s.audit(tickets.Event{Kind: kind, Actor: by, Request: request, Attrs: map[string]string{"credential": id, "file": path}})
	return nil
}

// recordingLive reports whether recording id belongs to a session going on now.
func (s *Server) recordingLive(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.cred.ID == id && ss.ctx.Err() == nil {
			return true
		}
	}
	return false
}

// pruneRecordings removes recordings whose last write is older than the retention, each with
// a recording.pruned event.
func (s *Server) pruneRecordings() {
	rc := s.cfg.Record
	if rc.Retention <= 0 || rc.Dir == "" {
		return
	}
	entries, err := os.ReadDir(rc.Dir)
	if err != nil {
		return
	}
	cutoff := s.cfg.Now().Add(-rc.Retention)
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".rec")
		info, err := e.Info()
		if !ok || err != nil || !info.ModTime().Before(cutoff) || s.recordingLive(id) {
			continue
		}
		if err := s.removeRecording(id, "recording.pruned", ""); err != nil {
			s.log.Warn("prune recording", "file", filepath.Join(rc.Dir, e.Name()), "err", err)
		}
	}
}

// pruneLoop prunes at start and then every PruneEvery, until the server stops.
func (s *Server) pruneLoop() {
	if s.cfg.Record.Retention <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.Record.PruneEvery)
	defer t.Stop()
	for {
		s.pruneRecordings()
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
	}
}

// Recordings lists request code's recordings (every one with an empty code) as recording list
// shows them: for the help desk's screens.
func (s *Server) Recordings(code string) ([]RecordingView, error) {
	return gatewayRecordings{s}.List(code)
}
