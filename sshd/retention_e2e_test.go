package sshd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
)

// recordedSession runs a short recorded session with an echo desktop and returns its
// recording's ID once it is sealed.
func recordedSession(t *testing.T, g *testenv.Gateway, tech *testenv.Technician) string {
	t.Helper()
	a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView})
	o := g.IssueOTC(t, tech, a.Code())
	cred := credentialOf(t, g, o)
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	waitEvent(t, g, "recording.saved", map[string]string{"credential": cred.ID})
	return cred.ID
}

// TestRecordingDeleteAndRetention: only an admin reads or deletes a recording, a deletion is
// audited, and recordings past the retention are pruned with an audit event each.
func TestRecordingDeleteAndRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) {
		c.Record = sshd.RecordConfig{Mode: sshd.RecordOn, Dir: dir, Retention: 24 * time.Hour, PruneEvery: 50 * time.Millisecond}
		c.CredentialGrace = 50 * time.Millisecond
		c.Now = func() time.Time { return now }
	}})
	admin := g.AddTechnician(t, "root", true)
	bob := g.AddTechnician(t, "bob", false)
	first, second := recordedSession(t, g, bob), recordedSession(t, g, bob)

	if _, stderr, code := g.Exec(t, bob, "recording", "get", first); code == 0 || !strings.Contains(stderr, "only admins") {
		t.Fatalf("a technician fetched a recording: exit %d, %q", code, stderr)
	}
	out, _, code := g.Exec(t, admin, "recording", "list")
	if code != 0 || !strings.Contains(out, first) || !strings.Contains(out, " ok") {
		t.Fatalf("recording list: exit %d\n%s", code, out)
	}
	body, _, code := g.Exec(t, admin, "recording", "get", first)
	if code != 0 || !strings.HasPrefix(body, "ASSISTREC") {
		t.Fatalf("recording get: exit %d, %d bytes", code, len(body))
	}
	if _, stderr, code := g.Exec(t, admin, "recording", "delete", first); code != 0 {
		t.Fatalf("recording delete: exit %d, %s", code, stderr)
	}
	waitEvent(t, g, "recording.deleted", map[string]string{"credential": first})
	if _, err := os.Stat(filepath.Join(dir, first+".rec")); !os.IsNotExist(err) {
		t.Fatalf("the deleted recording is still there: %v", err)
	}
	// The second one ages past the retention.
	old := now.Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(dir, second+".rec"), old, old)
	waitEvent(t, g, "recording.pruned", map[string]string{"credential": second})
	out, _, _ = g.Exec(t, admin, "recording", "list")
	if !strings.Contains(out, "deleted") || !strings.Contains(out, "pruned") {
		t.Fatalf("recording list after delete and prune:\n%s", out)
	}
}
