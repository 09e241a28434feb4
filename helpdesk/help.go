package helpdesk

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// Help configures the public /help page, where the person downloads assist-agent stamped for
// this gateway. Without Addresses and HostKey the page says the download is not set up.
type Help struct {
	Name      string     // the help desk's name: "Get help from NAME"
	Addresses []string   // the gateway's SSH host:port as agents reach it
	HostKey   ssh.Signer // the gateway's host key: it signs the stamps
}

func (h Help) ready() bool { return len(h.Addresses) > 0 && h.HostKey != nil }

// agentPlatforms are the builds of assist-agent make dist writes, in the order the page lists
// them; agentFile names each in dist/.
func agentPlatforms() []platform {
	return []platform{
		{"windows", "amd64", "Windows"},
		{"darwin", "arm64", "macOS"},
		{"linux", "amd64", "Linux, x86-64"},
		{"linux", "arm64", "Linux, ARM64"},
	}
}

func agentFile(p platform) string {
	if p.OS == "windows" {
		return "assist-agent-" + p.OS + "-" + p.Arch + ".exe"
	}
	return "assist-agent-" + p.OS + "-" + p.Arch
}

// agentSaveAs is the name the person's browser saves it as.
func agentSaveAs(p platform) string {
	if p.OS == "windows" {
		return "assist-agent.exe"
	}
	return "assist-agent"
}

// platformOf guesses the person's computer from the browser's User-Agent.
func platformOf(userAgent string) (os, arch string) {
	ua := strings.ToLower(userAgent)
	arch = "amd64"
	if strings.Contains(ua, "arm64") || strings.Contains(ua, "aarch64") {
		arch = "arm64"
	}
	switch {
	case strings.Contains(ua, "android"), strings.Contains(ua, "iphone"), strings.Contains(ua, "ipad"):
		return "", ""
	case strings.Contains(ua, "windows"):
		return "windows", arch
	case strings.Contains(ua, "mac os x"), strings.Contains(ua, "macintosh"):
		return "darwin", "arm64"
	case strings.Contains(ua, "linux"), strings.Contains(ua, "x11"), strings.Contains(ua, "cros"):
		return "linux", arch
	}
	return "", ""
}

type helpView struct {
	HelpDesk    string
	Ready       bool
	Yours       *agentDownload // the person's computer's, if there is one
	Others      []agentDownload
	Gateways    string
	Fingerprint string
}

type agentDownload struct {
	Platform   platform
	File, Save string
	Size       string
	Built      bool
	Run        string // how to start it, in words
}

// helpPage is public: no sign-in, and nothing on it comes from any request.
func (s *Server) helpPage(w http.ResponseWriter, r *http.Request) {
	h := s.cfg.Help
	v := helpView{HelpDesk: h.Name, Ready: h.ready() && s.cfg.Downloads != ""}
	if v.Ready {
		v.Gateways = strings.Join(h.Addresses, ", ")
		v.Fingerprint = ssh.FingerprintSHA256(h.HostKey.PublicKey())
		goos, goarch := platformOf(r.UserAgent())
		for _, p := range agentPlatforms() {
			d := agentDownload{Platform: p, File: agentFile(p), Save: agentSaveAs(p), Run: runWords(p)}
			if st, err := s.downloads.stat(d.File); err == nil {
				d.Built, d.Size = true, humanSize(st.Size())
			}
			if p.OS == goos && p.Arch == goarch && d.Built && v.Yours == nil {
				v.Yours = &d
				continue
			}
			v.Others = append(v.Others, d)
		}
	}
	s.render(w, http.StatusOK, "help", pageData{Title: "Get help from " + h.Name, Public: true, Data: v})
}

func runWords(p platform) string {
	switch p.OS {
	case "windows":
		return "Open assist-agent.exe from your downloads."
	case "linux":
		return "Allow it to run (right-click, Properties, “Allow executing file as program”, or chmod +x assist-agent), then open it."
	}
	return "Open it from your downloads."
}

// helpDownload serves assist-agent for one platform with this gateway's stamp appended.
func (s *Server) helpDownload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var plat *platform
	for _, p := range agentPlatforms() {
		if agentFile(p) == name {
			plat = &p
		}
	}
	if plat == nil || !s.cfg.Help.ready() || s.cfg.Downloads == "" {
		s.fail(w, r, nil, http.StatusNotFound, "There is no such download.")
		return
	}
	f, err := s.downloads.open(name)
	if err != nil {
		s.fail(w, r, nil, http.StatusNotFound, "This help desk has no program for that computer.")
		return
	}
	defer f.Close()
	trailer, size, err := s.downloads.stamp(f, name, func(exe io.Reader) ([]byte, error) {
		return tickets.SealStamp(exe, s.stampFor(), s.cfg.Help.HostKey)
	})
	if err != nil {
		s.log.Error("stamp assist-agent", "file", name, "err", err)
		s.fail(w, r, nil, http.StatusInternalServerError, "The download could not be prepared.")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename="+agentSaveAs(*plat))
	w.Header().Set("Content-Length", strconv.FormatInt(size+int64(len(trailer)), 10))
	w.WriteHeader(http.StatusOK)
	io.Copy(w, io.MultiReader(io.NewSectionReader(f, 0, size), bytes.NewReader(trailer)))
}

func (s *Server) stampFor() tickets.Stamp {
	h := s.cfg.Help
	return tickets.Stamp{HelpDesk: h.Name, Gateways: h.Addresses, HostKey: h.HostKey.PublicKey(), Issued: s.cfg.Now().UTC()}
}

// stamp returns the stamp trailer for the file f called name, made once for each version of
// the file (its size and time), and the size it was made for.
func (d *downloads) stamp(f *os.File, name string, seal func(exe io.Reader) ([]byte, error)) ([]byte, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	d.mu.Lock()
	cached, ok := d.stamps[name]
	d.mu.Unlock()
	if ok && cached.size == st.Size() && cached.mod.Equal(st.ModTime()) {
		return cached.trailer, st.Size(), nil
	}
	trailer, err := seal(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return nil, 0, fmt.Errorf("stamp %s: %w", name, err)
	}
	d.mu.Lock()
	d.stamps[name] = stampedFile{size: st.Size(), mod: st.ModTime(), trailer: trailer}
	d.mu.Unlock()
	return trailer, st.Size(), nil
}

type stampedFile struct {
	size    int64
	mod     time.Time
	trailer []byte
}

func (d *downloads) stat(name string) (os.FileInfo, error) {
	f, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}
