package sshd_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/fail2ban"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// TestAuditFullSession runs one whole session — request, .otc, consent, a desktop channel, SFTP
// operations, end — and reads the trail back with the audit command as an admin.
func TestAuditFullSession(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) { c.CredentialGrace = 50 * time.Millisecond }})
	admin := g.AddTechnician(t, "alice", true)
	routes := map[string]agent.Route{protocol.FramebufferChannel: echoRoute(protocol.GrantView), "session": agent.FilesRoute(slog.New(slog.DiscardHandler))}
	a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView | protocol.GrantControl | protocol.GrantFilesRead | protocol.GrantFilesWrite, Routes: routes})
	o := g.IssueOTC(t, admin, a.Code())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	ch.Write([]byte("12345"))
	ch.CloseWrite()
	io.ReadAll(ch)
	ch.Close()
	// The gateway records the close once both halves of its splice are done; wait for it, so the
	// trail's order below is the order of what the test did.
	testenv.WaitFor(t, 10*time.Second, "framebuffer channel.closed", func() bool {
		ev, _ := g.Store.Events(tickets.EventFilter{Kind: "channel.closed"})
		return len(ev) == 1
	})

	dir := t.TempDir()
	fc, err := sftp.NewClient(s.Client, sftp.MaxPacket(32<<10))
	if err != nil {
		t.Fatal(err)
	}
	src, dst := filepath.Join(dir, "report.txt"), filepath.Join(dir, "report-renamed.txt")
	f, err := fc.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("audit me ", 1000)
	f.Write([]byte(payload))
	f.Close()
	steps := []error{fc.Chmod(src, 0o640), fc.Rename(src, dst), fc.Mkdir(filepath.Join(dir, "sub")), fc.RemoveDirectory(filepath.Join(dir, "sub")), fc.Remove(dst)}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("sftp step %d: %v", i, err)
		}
	}
	fc.Close()
	s.Close()
	// credential.spent is the session's last event (after session.ended).
	testenv.WaitFor(t, 10*time.Second, "credential.spent", func() bool {
		ev, _ := g.Store.Events(tickets.EventFilter{Kind: "credential.spent"})
		return len(ev) == 1
	})

	out, errs, status := g.Exec(t, admin, "audit", "--json", "--request", a.Code())
	if status != 0 {
		t.Fatalf("audit: %d %s", status, errs)
	}
	var events []tickets.Event
	if err := json.Unmarshal([]byte(out), &events); err != nil {
		t.Fatal(err)
	}
	type want struct{ kind, attr, value string }
	wants := []want{
		{"request.filed", "", ""},
		{"credential.issued", "", ""},
		{"credential.used", "", ""}, // claimed during the handshake, once the client proved it holds the key
		{"auth.accepted", "role", "otc"},
		{"consent.asked", "", ""},
		{"consent.answered", "grant", "control,files"},
		{"channel.opened", "type", protocol.FramebufferChannel},
		{"channel.closed", "bytes_to_agent", "5"},
		{"channel.opened", "type", "sftp"},
		{"sftp.open-write", "path", src},
		{"sftp.close", "written", "9000"},
		{"sftp.setstat", "path", src},
		{"sftp.rename", "target", dst},
		{"sftp.mkdir", "path", filepath.Join(dir, "sub")},
		{"sftp.rmdir", "path", filepath.Join(dir, "sub")},
		{"sftp.remove", "path", dst},
		{"channel.closed", "type", "sftp"},
		{"session.ended", "credential_state", "spent"},
		{"credential.spent", "", ""},
	}
	i := 0
	for _, e := range events {
		if i < len(wants) && e.Kind == wants[i].kind && (wants[i].attr == "" || e.Attrs[wants[i].attr] == wants[i].value) {
			i++
		}
	}
	if i < len(wants) {
		var kinds []string
		for _, e := range events {
			kinds = append(kinds, e.Kind+" "+formatAttrs(e.Attrs))
		}
		t.Fatalf("audit trail lacks %+v (in order); trail:\n%s", wants[i], strings.Join(kinds, "\n"))
	}
	if err := g.Store.VerifyEvents(); err != nil {
		t.Fatal(err)
	}
}

func formatAttrs(m map[string]string) string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + " ")
	}
	return b.String()
}

// TestFail2banReadsGatewayLog logs in wrongly and rightly against a real gateway writing its auth
// log as a file, and runs the real fail2ban-regex with the shipped filter over it.
func TestFail2banReadsGatewayLog(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "auth.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) { c.AuthLog, c.AuthLogSyslog = logFile, true }})
	alice := g.AddTechnician(t, "alice", false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Successes: they must not count.
	for range 2 {
		g.Exec(t, alice, "whoami")
	}
	// Failures: an unknown user, and a known user with a key that is not theirs.
	stranger := &testenv.Technician{Name: "mallory"}
	stranger.Signer, stranger.KeyFile = testenv.NewKeyFile(t, t.TempDir(), "mallory")
	failures := 0
	for _, l := range []viewer.Login{g.Login(stranger), {Gateway: g.Addr, User: "alice", Identity: stranger.KeyFile, GatewayKey: g.HostKeyLine()}} {
		for range 2 {
			if c, err := l.Dial(ctx); err == nil {
				c.Close()
				t.Fatalf("login as %s with a wrong key succeeded", l.User)
			}
			failures++
		}
	}
	g.Stop() // flush: every connection's lines are written
	got := fail2ban.Failures(t, logPath, "assistd")
	if len(got) < failures {
		t.Fatalf("fail2ban counted %d failures, want at least %d (one per failed login); log:\n%s", len(got), failures, readFile(t, logPath))
	}
	for _, f := range got {
		if f.IP != "127.0.0.1" {
			t.Errorf("failure blamed on %q: %s", f.IP, f.Line)
		}
		if strings.Contains(f.Line, "Accepted") || strings.Contains(f.Line, "Disconnected from user alice") {
			t.Errorf("a successful login counted as a failure: %s", f.Line)
		}
	}
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
