package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// TestSSHConfigRefusesExpiredOTC: an expired .otc would give OpenSSH's sftp only "Permission
// denied"; ssh-config refuses it, writes nothing, and says how to get a new one.
func TestSSHConfigRefusesExpiredOTC(t *testing.T) {
	data, err := os.ReadFile(filesSession(t, protocol.GrantFilesRead))
	if err != nil {
		t.Fatal(err)
	}
	o, err := tickets.ParseOTC(data)
	if err != nil {
		t.Fatal(err)
	}
	o.Expires = time.Now().Add(-time.Minute)
	path := filepath.Join(t.TempDir(), o.Request+".otc")
	if err := os.WriteFile(path, o.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cfg")
	_, errs, code := runAssist(t, "ssh-config", path, "-o", dir)
	if code != 1 || !strings.Contains(errs, "the one-time file for "+o.Request+" expired at ") ||
		!strings.Contains(errs, "\nhint: get a new one: assist otc "+o.Request) {
		t.Fatalf("ssh-config with an expired .otc: exit %d, stderr %q; want a refusal with a hint", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("ssh-config wrote %s for an expired .otc (%v)", dir, err)
	}
}

// TestGatewayAtWebPort: --gateway pointed at the help desk's web port says so, with the fix.
func TestGatewayAtWebPort(t *testing.T) {
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	addr := web.Listener.Addr().String()
	_, errs, code := runAssist(t, "request", "list", "--gateway", addr, "--user", "alice", "--identity", alice.KeyFile, "--gateway-key", g.HostKeyLine())
	if code != 1 || !strings.Contains(errs, addr+" looks like an HTTP server, not the assist gateway's SSH port") ||
		!strings.Contains(errs, "\nhint: give the port assistd serve --ssh listens on") {
		t.Fatalf("request list against a web port: exit %d, stderr %q; want the port named as HTTP, with a hint", code, errs)
	}
}
