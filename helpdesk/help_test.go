package helpdesk_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistkit/assist/tickets"
)

// agentDist is a downloads directory with pretend assist-agent builds for Linux and Windows.
func agentDist(t *testing.T) (dir string, linux []byte) {
	t.Helper()
	dir = t.TempDir()
	linux = bytes.Repeat([]byte("\x7fELF pretend assist-agent "), 64)
	for name, b := range map[string][]byte{"assist-agent-linux-amd64": linux, "assist-agent-windows-amd64.exe": []byte("MZ pretend")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, linux
}

// TestHelpDownloadIsStamped: /help/FILE needs no sign-in and serves the build with this
// gateway's stamp, which verifies against the gateway's host key and names its address.
func TestHelpDownloadIsStamped(t *testing.T) {
	dir, linux := agentDist(t)
	d := startDesk(t, deskOptions{Downloads: dir, HelpDesk: "Example IT"})
	c := d.client(t) // not signed in
	res := c.get("/help/assist-agent-linux-amd64")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != "attachment; filename=assist-agent" {
		t.Fatalf("GET the Linux agent: %s, %q", res.Status, res.Header.Get("Content-Disposition"))
	}
	body := []byte(res.Body)
	if !bytes.HasPrefix(body, linux) || len(body) == len(linux) {
		t.Fatalf("the download is not the build with a stamp after it (%d bytes, build %d)", len(body), len(linux))
	}
	s, err := tickets.ReadStamp(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the download's stamp: %v", err)
	}
	if s.HelpDesk != "Example IT" || len(s.Gateways) != 1 || s.Gateways[0] != d.Addr || !bytes.Equal(s.HostKey.Marshal(), d.HostKey.PublicKey().Marshal()) {
		t.Errorf("stamp %+v, want Example IT at %s with the gateway's host key", s, d.Addr)
	}
	if again := c.get("/help/assist-agent-linux-amd64"); again.Body != res.Body {
		t.Error("a second download differs: the stamp of one build is made once")
	}
	if res := c.get("/help/assist-agent-windows-amd64.exe"); res.Header.Get("Content-Disposition") != "attachment; filename=assist-agent.exe" || !strings.HasPrefix(res.Body, "MZ pretend") {
		t.Errorf("GET the Windows agent: %s, %q", res.Status, res.Header.Get("Content-Disposition"))
	}
	for _, path := range []string{"/help/assist-agent-linux-arm64", "/help/assist-linux-amd64", "/help/..%2fassist-agent-linux-amd64", "/help/secret"} {
		if res := c.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, res.Status)
		}
	}

	// A gateway that was not told its public address offers nothing to stamp.
	bare := startDesk(t, deskOptions{Downloads: dir})
	bc := bare.client(t)
	if res := bc.get("/help"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "has not set up its download") {
		t.Errorf("/help without --public-address: %s\n%s", res.Status, res.Body)
	}
	if res := bc.get("/help/assist-agent-linux-amd64"); res.StatusCode != http.StatusNotFound {
		t.Errorf("download without --public-address: %s, want 404", res.Status)
	}
}
