package viewer

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/viewer/internal/web"
)

// WebOptions tune the browser viewer. The zero value is ready to use.
type WebOptions struct {
	Logger *slog.Logger
	// InFlight is how many screen update requests each page keeps outstanding (0 means 2).
	InFlight int
	// Monitor is the monitor a page shows first, counting from 0; -1 shows all of them.
	Monitor int
	// Quality is what a page asks of lossy encoding first: auto (the agent decides by the
	// link), sharp (lossless only) or fast. The page can change it.
	Quality rdp.Quality
}

// Web is the browser viewer: a page on 127.0.0.1 that shows the session's screen and sends the
// technician's keyboard and mouse, clipboard and files. Only the first browser that opens URL
// (which carries a one-time 256-bit secret) gets in.
type Web struct{ srv *web.Server }

// NewWeb listens on a random port of 127.0.0.1 for the viewer page of s.
func NewWeb(s *Session, opts WebOptions) (*Web, error) {
	srv, err := web.New(webSession{s}, web.Options{Logger: opts.Logger, InFlight: opts.InFlight, Monitor: opts.Monitor, Quality: opts.Quality})
	if err != nil {
		return nil, err
	}
	return &Web{srv: srv}, nil
}

// URL is what the technician's browser opens, once.
func (w *Web) URL() string { return w.srv.URL() }

// Serve runs the page until ctx ends or the session does. Before it returns, open pages are
// told why, so the technician reads the reason where they were looking.
func (w *Web) Serve(ctx context.Context) error { return w.srv.Serve(ctx) }

// Close stops the page at once, for callers that never ran Serve.
func (w *Web) Close() error { return w.srv.Close() }

// webSession is the session as the page sees it.
type webSession struct{ *Session }

func (s webSession) Request() string { return s.OTC.Request }

func (s webSession) Files() (web.Files, error) {
	f, err := s.Session.Files()
	if err != nil {
		return nil, err
	}
	return webFiles{f}, nil
}

func (s webSession) Ping() (time.Duration, error) {
	start := time.Now()
	// The gateway answers an SSH keepalive itself: the protocol has no ping to the agent.
	if _, _, err := s.SendRequest("keepalive@openssh.com", true, nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func (s webSession) Chat() (web.Chat, error) {
	c, err := s.Session.Chat()
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s webSession) End(reason string) {
	s.end(reason)
	s.Close()
}

// webFiles is the session's SFTP client as the files panel sees it.
type webFiles struct{ *Files }

func (f webFiles) List(ctx context.Context, dir string) ([]web.Entry, error) {
	es, err := f.Files.List(ctx, dir)
	out := make([]web.Entry, len(es))
	for i, e := range es {
		out[i] = web.Entry(e)
	}
	return out, err
}

func (f webFiles) Stat(ctx context.Context, p string) (web.Entry, error) {
	e, err := f.Files.Stat(ctx, p)
	return web.Entry(e), err
}

func (f webFiles) Download(ctx context.Context, p string, w io.Writer) (int64, error) {
	return f.Files.Download(ctx, p, w, nil)
}

func (f webFiles) Upload(ctx context.Context, p string, r io.Reader, size int64) (int64, error) {
	return f.Files.Upload(ctx, p, r, size, 0o644, nil)
}
