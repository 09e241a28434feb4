// Package web is the browser viewer: an HTTP app on 127.0.0.1 that shows a session's screen in
// the technician's browser and sends their keyboard and mouse, clipboard and files. It reaches the
// session through the small Session interface, which package viewer implements.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/assistkit/assist/rdp"
)

//go:embed static
var assets embed.FS

// Options tune the browser viewer. The zero value is ready to use.
type Options struct {
	Logger *slog.Logger
	// InFlight is how many screen update requests each page keeps outstanding (0 means 2).
	InFlight int
	// Monitor is the monitor a page shows first, counting from 0; -1 shows all of them.
	Monitor int
	// Quality is what a page asks of lossy encoding first (the page can change it).
	Quality rdp.Quality
}

// Server is the browser viewer: a page on 127.0.0.1 that shows the session's screen and sends
// the technician's keyboard and mouse. Only the first browser that opens URL (which carries a
// 256-bit secret, good once) gets in: it trades the secret for another in an HttpOnly,
// SameSite=Strict cookie. Every request is checked for that cookie and for the Host, and every
// POST (the screen stream included) for the Origin.
type Server struct {
	s    Session
	opts Options
	log  *slog.Logger
	ln   net.Listener
	srv  *http.Server
	door *door
	// origin is "http://127.0.0.1:PORT": the only Host and Origin the server accepts.
	origin string
	cookie string

	stop     chan struct{} // closed when Serve is ending; streams say why and return
	stopOnce sync.Once
	mu       sync.Mutex
	why      string // why the viewer stopped, for the page

	closers []func() // what ServePlayback frees when it returns

	views *views
	chat  chatSide
	input *inputSide
	files *filesSide
}

// New listens on a random port of 127.0.0.1 for the viewer page of s.
func New(s Session, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.InFlight <= 0 {
		opts.InFlight = 2
	}
	door, err := newDoor()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("viewer page: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	w := &Server{s: s, opts: opts, log: opts.Logger, ln: ln, door: door,
		origin: "http://127.0.0.1:" + strconv.Itoa(port),
		cookie: "assist-viewer-" + strconv.Itoa(port), // cookies ignore ports: one name per viewer
		stop:   make(chan struct{}), views: newViews(), chat: chatSide{settled: make(chan struct{})}}
	w.input = newInputSide(s, opts.Logger, w.views.notify)
	w.files = &filesSide{s: s, log: opts.Logger}
	w.srv = &http.Server{Handler: w.guard(w.routes()), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug)}
	return w, nil
}

// URL is what the technician's browser opens, once: it carries the one-time secret.
func (w *Server) URL() string { return w.origin + "/open?t=" + w.door.ticket }

func (w *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	mux.HandleFunc("GET /open", w.handleOpen)
	mux.Handle("GET /{$}", serveAsset(static, "index.html"))
	mux.Handle("GET /viewer.js", serveAsset(static, "viewer.js"))
	mux.Handle("GET /viewer.css", serveAsset(static, "viewer.css"))
	mux.HandleFunc("POST /stream", w.handleStream)
	mux.HandleFunc("POST /ack", w.handleAck)
	mux.HandleFunc("POST /monitor", w.handleMonitor)
	mux.HandleFunc("POST /quality", w.handleQuality)
	mux.HandleFunc("POST /input", w.handleInput)
	mux.HandleFunc("POST /ping", w.handlePing)
	mux.HandleFunc("POST /clipboard", w.handleClipboardSet)
	mux.HandleFunc("POST /clipboard/get", w.handleClipboardGet)
	mux.HandleFunc("POST /end", w.handleEnd)
	mux.HandleFunc("POST /chat", w.handleChat)
	mux.HandleFunc("GET /files/list", w.files.handleList)
	mux.HandleFunc("GET /files/download", w.files.handleDownload)
	mux.HandleFunc("POST /files/upload", w.files.handleUpload)
	return mux
}

// Serve runs the page until ctx ends or the session does. Before it returns, open pages are
// told why, so the technician reads the reason where they were looking.
func (w *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- w.srv.Serve(w.ln) }()
	go w.watchGrant()
	go w.watchLimit()
	go w.runChat()
	var err error
	select {
	case <-ctx.Done():
		w.halt("the viewer was stopped on the technician's computer")
	case <-w.s.Ended():
		w.halt(w.s.EndReason())
	case err = <-errc:
		w.halt("the viewer's web server failed")
	}
	// Streams see stop, write the reason and return; Shutdown waits for them, briefly.
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	w.srv.Shutdown(sctx)
	w.input.close()
	w.files.close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close stops the server at once, for callers that never ran Serve.
func (w *Server) Close() error {
	w.halt("the viewer was closed")
	return w.srv.Close()
}

func (w *Server) halt(why string) {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.why = why
		w.mu.Unlock()
		close(w.stop)
	})
}

// stopReason is why the page stopped: the session's end reason when there is one.
func (w *Server) stopReason() string {
	if r := w.s.EndReason(); r != "" {
		return r
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

// explain adds the session's end reason to err when the session ended under a failing call.
func (w *Server) explain(err error) error {
	select {
	case <-w.s.Ended():
		return fmt.Errorf("%w (session ended: %s)", err, w.s.EndReason())
	default:
		return err
	}
}

func (w *Server) handleEnd(rw http.ResponseWriter, r *http.Request) {
	w.log.Info("technician ended the session from the viewer page")
	w.s.End("you ended the session")
	rw.WriteHeader(http.StatusNoContent)
}

func serveAsset(fsys fs.FS, name string) http.Handler {
	ctype := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8"}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			http.Error(rw, "not found", http.StatusNotFound)
			return
		}
		for ext, t := range ctype {
			if len(name) > len(ext) && name[len(name)-len(ext):] == ext {
				rw.Header().Set("Content-Type", t)
			}
		}
		rw.Write(data)
	})
}
