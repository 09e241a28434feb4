package helpdesk_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDownloads(t *testing.T) {
	dir := t.TempDir()
	bin := []byte("\x7fELF pretend assist binary")
	if err := os.WriteFile(filepath.Join(dir, "assist-linux-amd64"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte("not for download"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDesk(t, deskOptions{Downloads: dir})
	d.addTech(t, "alice")
	c := d.client(t)
	c.signIn("alice")

	page := c.get("/download").Body
	sum := sha256.Sum256(bin)
	for _, want := range []string{`href="/download/assist-linux-amd64"`, hex.EncodeToString(sum[:]), "assist-windows-amd64.exe", "assist-darwin-arm64", "Linux, ARM64", "not built"} {
		if !strings.Contains(page, want) {
			t.Errorf("download page lacks %q", want)
		}
	}
	if strings.Contains(page, "secret.key") {
		t.Error("download page lists a file that is not a platform's build")
	}

	res := c.get("/download/assist-linux-amd64")
	if res.StatusCode != http.StatusOK || res.Body != string(bin) || res.Header.Get("Content-Disposition") != "attachment; filename=assist-linux-amd64" {
		t.Errorf("GET the linux build: %s %q, %q", res.Status, res.Body, res.Header.Get("Content-Disposition"))
	}
	for _, path := range []string{"/download/secret.key", "/download/assist-linux-arm64", "/download/..%2fsecret.key", "/download/%2e%2e"} {
		if res := c.get(path); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "not for download") {
			t.Errorf("GET %s: %s, want 404", path, res.Status)
		}
	}

	// Without a downloads directory the page still lists the platforms, none built.
	d2 := startDesk(t, deskOptions{})
	d2.addTech(t, "alice")
	c2 := d2.client(t)
	c2.signIn("alice")
	if page := c2.get("/download").Body; strings.Count(page, "not built") != 6 {
		t.Errorf("download page without a directory: want six platforms not built:\n%s", page)
	}
}
