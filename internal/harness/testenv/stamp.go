package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// Stamp writes a copy of the agent program at exe, stamped for g as the gateway's /help page
// stamps the agent it hands out (help desk "Example IT", g's address and host key), into a new
// directory under name, and returns its path.
func (g *Gateway) Stamp(t testing.TB, exe, name string) string {
	t.Helper()
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	trailer, err := tickets.SealStamp(bytes.NewReader(b), tickets.Stamp{HelpDesk: "Example IT", Gateways: []string{g.Addr},
		HostKey: g.HostKey.PublicKey(), Issued: time.Now()}, g.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, append(b, trailer...), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
