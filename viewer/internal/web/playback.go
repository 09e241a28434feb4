package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Playback is what the page in playback mode needs of a recording.
type Playback interface {
	// Title names the recording for the page's title.
	Title() string
	// Timeline is the recording's length and its markers (input, file transfers, consent
	// changes, notes) as a JSON-able value, and the damage that stops it, if any.
	Timeline() (any, error)
	// Frame is the screen at t.
	Frame(t time.Duration) (*image.RGBA, error)
}

// NewPlayback listens on a random port of 127.0.0.1 for the viewer page in playback mode: the
// recorded screen, play and pause, speed, a timeline with seek and markers. It is guarded as the
// live page is: one-time secret, cookie, Host and Origin.
func NewPlayback(p Playback, opts Options) (*Server, error) {
	w, err := newLocal("assist-playback-", opts)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /open", w.handleOpen)
	mux.Handle("/", playbackHandler(p))
	w.srv = &http.Server{Handler: w.guard(mux), ReadHeaderTimeout: 10 * time.Second}
	return w, nil
}

// newLocal listens on a random port of 127.0.0.1 for a page of the technician's own, guarded
// as the live page is: one-time secret, cookie (named prefix and the port), Host and Origin.
func newLocal(cookie string, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
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
	return &Server{opts: opts, log: opts.Logger, ln: ln, door: door, origin: "http://127.0.0.1:" + strconv.Itoa(port),
		cookie: cookie + strconv.Itoa(port), stop: make(chan struct{})}, nil
}

// playbackHandler serves the playback page of p and what it asks for, with no guard of its own.
// The page's addresses are relative, so it can be mounted under any path that ends in a slash.
func playbackHandler(p Playback) http.Handler {
	static, _ := fs.Sub(assets, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serveAsset(static, "playback.html"))
	mux.Handle("GET /playback.js", serveAsset(static, "playback.js"))
	mux.Handle("GET /viewer.css", serveAsset(static, "viewer.css"))
	mux.HandleFunc("GET /timeline", func(rw http.ResponseWriter, r *http.Request) {
		tl, err := p.Timeline()
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"title": p.Title(), "timeline": tl})
	})
	mux.HandleFunc("GET /frame", func(rw http.ResponseWriter, r *http.Request) {
		ms, err := strconv.ParseInt(r.URL.Query().Get("t"), 10, 64)
		if err != nil || ms < 0 {
			http.Error(rw, "t: milliseconds", http.StatusBadRequest)
			return
		}
		img, err := p.Frame(time.Duration(ms) * time.Millisecond)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "image/png")
		(&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(rw, img)
	})
	return mux
}

// ServePlayback runs the playback page (or the recordings page) until ctx ends.
func (w *Server) ServePlayback(ctx context.Context) error {
	defer func() {
		for _, c := range w.closers {
			c()
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- w.srv.Serve(w.ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return w.srv.Shutdown(sctx)
}
