package viewer

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
)

//go:embed web
var webAssets embed.FS

// WebOptions tune the browser viewer. The zero value is ready to use.
type WebOptions struct {
	Logger *slog.Logger
	// InFlight is how many screen update requests each page keeps outstanding (0 means 2).
	InFlight int
	// Monitor is the monitor a page shows first, counting from 0; -1 shows all of them.
	Monitor int
}

// Web is the browser viewer: a page on 127.0.0.1 that shows the session's screen and sends
// the technician's keyboard and mouse. Only a browser that opened URL (which carries a 256-bit
// secret) gets in; the secret becomes an HttpOnly, SameSite=Strict cookie, every request is
// checked for it and for the Host, and every POST (the screen stream included) for the Origin.
type Web struct {
	s     *Session
	opts  WebOptions
	log   *slog.Logger
	ln    net.Listener
	srv   *http.Server
	token string
	// origin is "http://127.0.0.1:PORT": the only Host and Origin the server accepts.
	origin string
	cookie string

	stop     chan struct{} // closed when Serve is ending; streams say why and return
	stopOnce sync.Once
	mu       sync.Mutex
	why      string // why the viewer stopped, for the page

	views *views
	input *inputSide
	files *filesSide
}

// NewWeb listens on a random port of 127.0.0.1 for the viewer page of s.
func NewWeb(s *Session, opts WebOptions) (*Web, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.InFlight <= 0 {
		opts.InFlight = 2
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("viewer page: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	w := &Web{s: s, opts: opts, log: opts.Logger, ln: ln, token: token,
		origin: "http://127.0.0.1:" + strconv.Itoa(port),
		cookie: "assist-viewer-" + strconv.Itoa(port), // cookies ignore ports: one name per viewer
		stop:   make(chan struct{}), views: newViews()}
	w.input = newInputSide(s, opts.Logger, w.views.notify)
	w.files = &filesSide{s: s, log: opts.Logger}
	w.srv = &http.Server{Handler: w.guard(w.routes()), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug)}
	return w, nil
}

// URL is what the technician's browser opens: it carries the secret once.
func (w *Web) URL() string { return w.origin + "/open?t=" + w.token }

func (w *Web) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webAssets, "web")
	mux.HandleFunc("GET /open", w.handleOpen)
	mux.Handle("GET /{$}", serveAsset(static, "index.html"))
	mux.Handle("GET /viewer.js", serveAsset(static, "viewer.js"))
	mux.Handle("GET /viewer.css", serveAsset(static, "viewer.css"))
	mux.HandleFunc("POST /stream", w.handleStream)
	mux.HandleFunc("POST /ack", w.handleAck)
	mux.HandleFunc("POST /monitor", w.handleMonitor)
	mux.HandleFunc("POST /input", w.handleInput)
	mux.HandleFunc("POST /ping", w.handlePing)
	mux.HandleFunc("POST /clipboard", w.handleClipboardSet)
	mux.HandleFunc("POST /clipboard/get", w.handleClipboardGet)
	mux.HandleFunc("POST /end", w.handleEnd)
	mux.HandleFunc("GET /files/list", w.files.handleList)
	mux.HandleFunc("GET /files/download", w.files.handleDownload)
	mux.HandleFunc("POST /files/upload", w.files.handleUpload)
	return mux
}

// Serve runs the page until ctx ends or the session does. Before it returns, open pages are
// told why, so the technician reads the reason where they were looking.
func (w *Web) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- w.srv.Serve(w.ln) }()
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
func (w *Web) Close() error {
	w.halt("the viewer was closed")
	return w.srv.Close()
}

func (w *Web) halt(why string) {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.why = why
		w.mu.Unlock()
		close(w.stop)
	})
}

// stopReason is why the page stopped: the session's end reason when there is one.
func (w *Web) stopReason() string {
	if r := w.s.EndReason(); r != "" {
		return r
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

func (w *Web) handleEnd(rw http.ResponseWriter, r *http.Request) {
	w.log.Info("technician ended the session from the viewer page")
	w.s.end("you ended the session")
	w.s.Close()
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
