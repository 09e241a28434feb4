package web

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// filesSide is the page's files panel: the session's SFTP, opened on first use. When the
// person did not allow files, every call answers with their refusal.
type filesSide struct {
	s   Session
	log *slog.Logger

	mu  sync.Mutex
	f   Files
	err error
}

func (fs *filesSide) get() (Files, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f == nil && fs.err == nil {
		fs.f, fs.err = fs.s.Files()
	}
	return fs.f, fs.err
}

func (fs *filesSide) close() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f != nil {
		fs.f.Close()
	}
}

func (fs *filesSide) fail(rw http.ResponseWriter, err error, code int) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	writeJSON(rw, map[string]string{"error": err.Error()})
}

// handleList answers {"dir": absolute path, "entries": [...]}; no dir means the person's home.
func (fs *filesSide) handleList(rw http.ResponseWriter, r *http.Request) {
	f, err := fs.get()
	if err != nil {
		fs.fail(rw, err, http.StatusForbidden)
		return
	}
	dir := r.URL.Query().Get("dir")
	if dir == "" {
		if dir, err = f.Home(r.Context()); err != nil {
			fs.fail(rw, err, http.StatusBadGateway)
			return
		}
	}
	dir = path.Clean(dir)
	entries, err := f.List(r.Context(), dir)
	if err != nil {
		fs.fail(rw, err, http.StatusBadGateway)
		return
	}
	writeJSON(rw, map[string]any{"dir": dir, "entries": entries})
}

// handleDownload sends a remote file as an attachment, with its length so the browser shows
// progress.
func (fs *filesSide) handleDownload(rw http.ResponseWriter, r *http.Request) {
	f, err := fs.get()
	if err != nil {
		fs.fail(rw, err, http.StatusForbidden)
		return
	}
	p := r.URL.Query().Get("path")
	e, err := f.Stat(r.Context(), p)
	if err != nil {
		fs.fail(rw, err, http.StatusBadGateway)
		return
	}
	if e.IsDir {
		fs.fail(rw, errors.New(p+" is a directory"), http.StatusBadRequest)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
	if _, err := f.Download(r.Context(), p, rw); err != nil && r.Context().Err() == nil {
		// The status is sent; cutting the body short makes the browser mark the download failed.
		fs.log.Info("download failed", "path", p, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// handleUpload writes the request body to dir/name on the remote side. The page sends it with
// XMLHttpRequest, whose upload progress follows this handler's reads, that is the SFTP writes.
func (fs *filesSide) handleUpload(rw http.ResponseWriter, r *http.Request) {
	f, err := fs.get()
	if err != nil {
		fs.fail(rw, err, http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		fs.fail(rw, errors.New("bad file name"), http.StatusBadRequest)
		return
	}
	p := path.Join(q.Get("dir"), name)
	n, err := f.Upload(r.Context(), p, r.Body, r.ContentLength)
	if err != nil {
		fs.fail(rw, err, http.StatusBadGateway)
		return
	}
	writeJSON(rw, map[string]any{"path": p, "bytes": n})
}
