package helpdesk_test

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestLinuxInstallLine runs the page's Linux install line as a technician pastes it, in a home
// without ~/.local/bin, on the downloaded file: it installs and runs assist install.
func TestLinuxInstallLine(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	c := d.client(t)
	c.signIn("alice")
	m := regexp.MustCompile(`<code id="install-linux">([^<]+)</code>`).FindStringSubmatch(c.get("/download").Body)
	if m == nil {
		t.Fatal("the download page has no Linux install line")
	}
	line := html.UnescapeString(m[1])
	home, downloads := t.TempDir(), t.TempDir()
	// A stand-in for the downloaded assist that records how it was run.
	stub := "#!/bin/sh\necho \"$0 $*\" > \"$HOME/ran\"\n"
	if err := os.WriteFile(filepath.Join(downloads, "assist-linux-amd64"), []byte(stub), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = downloads, []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	ran, err := os.ReadFile(filepath.Join(home, "ran"))
	if err != nil || strings.TrimSpace(string(ran)) != filepath.Join(home, ".local/bin/assist")+" install" {
		t.Fatalf("after %s: assist ran as %q (%v), want ~/.local/bin/assist install", line, ran, err)
	}
}

// TestSignInHintNamesTheGateway: the sign-in page's OpenSSH hint names the gateway's real SSH
// address, not a made-up port.
func TestSignInHintNamesTheGateway(t *testing.T) {
	d := startDesk(t, deskOptions{})
	host, port, _ := net.SplitHostPort(d.Addr)
	want := "ssh -p " + port + " you@" + host + " user passwd"
	if page := d.client(t).get("/signin").Body; !strings.Contains(page, `<code id="ssh-passwd">`+want+`</code>`) {
		t.Errorf("sign-in page lacks %q", want)
	}
}
