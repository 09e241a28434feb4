package helpdesk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// platform is one build of assist that make dist writes as dist/assist-OS-ARCH[.exe].
type platform struct {
	OS, Arch, Name string
}

func (p platform) File() string {
	if p.OS == "windows" {
		return "assist-" + p.OS + "-" + p.Arch + ".exe"
	}
	return "assist-" + p.OS + "-" + p.Arch
}

// platforms are those make dist builds, in the order the page lists them.
func platforms() []platform {
	return []platform{
		{"windows", "amd64", "Windows, x86-64"},
		{"windows", "arm64", "Windows, ARM64"},
		{"darwin", "arm64", "macOS, Apple silicon"},
		{"darwin", "amd64", "macOS, Intel"},
		{"linux", "amd64", "Linux, x86-64"},
		{"linux", "arm64", "Linux, ARM64"},
	}
}

// downloads serves the built binaries and remembers their SHA-256 sums, so the page can show
// them without hashing megabytes on every visit.
type downloads struct {
	dir    string
	mu     sync.Mutex
	sums   map[string]fileSum
	stamps map[string]stampedFile // assist-agent's stamp trailers, by file (help.go)
}

type fileSum struct {
	size int64
	mod  time.Time
	sum  string
}

func newDownloads(dir string) *downloads {
	return &downloads{dir: dir, sums: map[string]fileSum{}, stamps: map[string]stampedFile{}}
}

type downloadView struct {
	Platform platform
	File     string
	Size     string
	SHA256   string
	Built    bool
}

// list describes every platform, built or not.
func (d *downloads) list() ([]downloadView, error) {
	var out []downloadView
	for _, p := range platforms() {
		v := downloadView{Platform: p, File: p.File()}
		if d.dir != "" {
			sum, err := d.sum(p.File())
			if err != nil && !os.IsNotExist(err) {
				return nil, err
			}
			if err == nil {
				v.Built, v.Size, v.SHA256 = true, humanSize(sum.size), sum.sum
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *downloads) open(name string) (*os.File, error) {
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Open(name)
}

func (d *downloads) sum(name string) (fileSum, error) {
	f, err := d.open(name)
	if err != nil {
		return fileSum{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileSum{}, err
	}
	d.mu.Lock()
	cached, ok := d.sums[name]
	d.mu.Unlock()
	if ok && cached.size == st.Size() && cached.mod.Equal(st.ModTime()) {
		return cached, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fileSum{}, fmt.Errorf("hash %s: %w", name, err)
	}
	fs := fileSum{size: st.Size(), mod: st.ModTime(), sum: hex.EncodeToString(h.Sum(nil))}
	d.mu.Lock()
	d.sums[name] = fs
	d.mu.Unlock()
	return fs, nil
}

func humanSize(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", (n+1023)>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func (s *Server) downloadPage(w http.ResponseWriter, r *http.Request, sess *session) {
	list, err := s.downloads.list()
	if err != nil {
		s.log.Error("list downloads", "dir", s.cfg.Downloads, "err", err)
		s.fail(w, r, sess, http.StatusInternalServerError, "The downloads could not be read.")
		return
	}
	s.render(w, http.StatusOK, "download", s.page(sess, "Remote Connect Software", "download", list))
}

// downloadFile serves one of the platforms' files; no other name is served, whatever the
// directory holds.
func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("file")
	known := false
	for _, p := range platforms() {
		known = known || p.File() == name
	}
	if !known || s.cfg.Downloads == "" {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such download.")
		return
	}
	f, err := s.downloads.open(name)
	if err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "That platform's build is not on this server; ask its administrator to run make dist.")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.fail(w, r, sess, http.StatusInternalServerError, "The download could not be read.")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename="+name)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, st.ModTime(), f)
}
