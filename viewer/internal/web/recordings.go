package web

import (
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Recordings is what the page listing recordings needs: the list the gateway gave (recording
// list over SSH, with the technician's account) and a way to open one for its playback page.
type Recordings interface {
	// Title says whose recordings these are, for the page's title.
	Title() string
	// List is the recordings, newest first.
	List() []RecordingEntry
	// Open opens recording id (fetched from the gateway) for its playback page. Close (on the
	// Playback, when it has one) frees it.
	Open(id string) (Playback, error)
}

// RecordingEntry is one row of the list.
type RecordingEntry struct {
	ID, Technician, Duration, Status string
	Started                          time.Time
	Bytes                            int64
	Playable                         bool
}

var recordingsPage = template.Must(template.ParseFS(assets, "static/recordings.html"))

// NewRecordings listens on a random port of 127.0.0.1 for a page listing recordings, each with
// a link to its playback page (served here under /play/ID/), guarded as the live page is.
func NewRecordings(rs Recordings, opts Options) (*Server, error) {
	w, err := newLocal("assist-recordings-", opts)
	if err != nil {
		return nil, err
	}
	open := &openPlaybacks{rs: rs, open: map[string]Playback{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /open", w.handleOpen)
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /viewer.css", serveAsset(static, "viewer.css"))
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		recordingsPage.Execute(rw, map[string]any{"Title": rs.Title(), "List": rs.List()})
	})
	mux.HandleFunc("GET /play/{id}/{rest...}", func(rw http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		p, err := open.get(id)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusNotFound)
			return
		}
		http.StripPrefix("/play/"+id, playbackHandler(p)).ServeHTTP(rw, r)
	})
	w.srv = &http.Server{Handler: w.guard(mux), ReadHeaderTimeout: 10 * time.Second}
	w.closers = append(w.closers, open.closeAll)
	return w, nil
}

// openPlaybacks are the recordings opened for their pages, each once, until the page's server
// stops.
type openPlaybacks struct {
	rs   Recordings
	mu   sync.Mutex
	open map[string]Playback
}

func (o *openPlaybacks) get(id string) (Playback, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p := o.open[id]; p != nil {
		return p, nil
	}
	if strings.ContainsAny(id, "/\\") {
		return nil, http.ErrNotSupported
	}
	p, err := o.rs.Open(id)
	if err != nil {
		return nil, err
	}
	o.open[id] = p
	return p, nil
}

func (o *openPlaybacks) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, p := range o.open {
		if c, ok := p.(interface{ Close() error }); ok {
			c.Close()
		}
		delete(o.open, id)
	}
}
