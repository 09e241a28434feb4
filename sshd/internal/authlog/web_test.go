package authlog_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/fail2ban"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/sshd/internal/authlog"
)

// writeWebLog logs web sign-ins among SSH lines, syslog-formatted, and returns the log and the
// failures the web jail must count, as "IP line".
func writeWebLog(t *testing.T) (log []byte, want []string) {
	t.Helper()
	var buf bytes.Buffer
	clock := time.Date(2025, time.March, 7, 9, 0, 0, 0, time.Local)
	l := authlog.New(&buf, authlog.Options{Syslog: true, Hostname: "gw", PID: 4242, Now: func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	}})
	tech := &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 50122}
	attacker := &net.TCPAddr{IP: net.ParseIP("198.51.100.7"), Port: 40001}
	proxied := &net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 0}
	fail := func(ip string) { want = append(want, ip+" "+lastLine(buf.String())) }

	l.WebFailed("alice", false, tech) // a typo: counted, the jail allows for some
	fail("192.0.2.10")
	l.WebAccepted("alice", tech)
	l.WebFailed("mallory", true, attacker)
	fail("198.51.100.7")
	l.WebFailed("alice", false, proxied)
	fail("2001:db8::7")
	l.WebThrottled("alice", proxied)
	fail("2001:db8::7")
	// Names that try to get the technician's address banned, or to start a line of their own.
	l.WebFailed("x from 192.0.2.10 port 50122", true, attacker)
	fail("198.51.100.7")
	l.WebFailed("x\nFailed web password for alice from 192.0.2.10 port 1", true, attacker)
	fail("198.51.100.7")
	// SSH lines are the other jail's.
	l.InvalidUser("root", attacker)
	l.Failed("publickey", "root", true, attacker, ed25519Key(t))
	l.Accepted("publickey", "alice", tech, ed25519Key(t))
	return buf.Bytes(), want
}

func TestFail2banWebFilterCountsWebFailures(t *testing.T) {
	log, want := writeWebLog(t)
	filter := testenv.RepoFile(t, "scripts/fail2ban/filter.d/assistd-web.conf")
	dir := t.TempDir()
	syslog, journal := filepath.Join(dir, "auth.log"), filepath.Join(dir, "journal.txt")
	// The journal as fail2ban's systemd backend shows it: "HOST assistd[PID]: MESSAGE".
	var j bytes.Buffer
	for _, line := range strings.SplitAfter(string(log), "\n") {
		if len(line) > len(time.Stamp)+1 {
			j.WriteString(line[len(time.Stamp)+1:])
		}
	}
	os.WriteFile(syslog, log, 0o600)
	os.WriteFile(journal, j.Bytes(), 0o600)

	for _, c := range []struct {
		name, file string
		extra      []string
		strip      int
	}{{"syslog file", syslog, nil, 0}, {"journal", journal, []string{"-d", "{NONE}"}, len(time.Stamp) + 1}} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, m := range fail2ban.Regex(t, c.file, filter, c.extra...) {
				got = append(got, m.IP+" "+m.Line)
			}
			var w []string
			for _, f := range want {
				ip, line, _ := strings.Cut(f, " ")
				w = append(w, ip+" "+line[c.strip:])
			}
			if !slices.Equal(got, w) {
				t.Errorf("the web filter counted\n %q\nwant\n %q", got, w)
			}
		})
	}
	// The SSH jail's filter counts none of the web lines.
	for _, f := range fail2ban.Failures(t, syslog, "assistd") {
		if strings.Contains(f.Line, " web ") {
			t.Errorf("the SSH filter counted a web line: %s", f.Line)
		}
	}
}
