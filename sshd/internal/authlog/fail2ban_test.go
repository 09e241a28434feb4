package authlog_test

import (
	"bytes"
	"crypto/ed25519"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/fail2ban"
	"github.com/assistkit/assist/sshd/internal/authlog"
)

// TestFail2banReadsOurLines writes a mix of logins through the Logger, as a
// syslog-style file, and runs the real fail2ban-regex with the assistd
// filter over it: every failure line must count, with the attacker's
// address, and no line of a successful login may.
func TestFail2banReadsOurLines(t *testing.T) {
	lines, wantFail, wantClean := writeMixedLog(t)
	logFile := filepath.Join(t.TempDir(), "auth.log")
	if err := os.WriteFile(logFile, lines, 0o600); err != nil {
		t.Fatal(err)
	}

	failures := fail2ban.Failures(t, logFile, "assistd")
	got := map[string]string{}
	for _, f := range failures {
		got[f.Line] = f.IP
	}
	for line, ip := range wantFail {
		if got[line] != ip {
			t.Errorf("fail2ban should count a failure from %s for\n  %s\ngot %q", ip, line, got[line])
		}
	}
	for _, line := range wantClean {
		if ip, ok := got[line]; ok {
			t.Errorf("fail2ban counted a failure from %s for a line that is not one:\n  %s", ip, line)
		}
	}
	if len(failures) != len(wantFail) {
		t.Errorf("fail2ban counted %d failures, want %d:\n%v", len(failures), len(wantFail), failures)
	}
	if matched := fail2ban.Lines(t, logFile); len(matched) != len(wantFail) {
		t.Errorf("RunFail2banRegex returned %d lines, want %d", len(matched), len(wantFail))
	}
}

// TestFail2banFilterFromRepository: the filter file works where it lies in the repository, not
// only once installed beside the stock sshd filter, and counts the same.
func TestFail2banFilterFromRepository(t *testing.T) {
	lines, wantFail, _ := writeMixedLog(t)
	logFile := filepath.Join(t.TempDir(), "auth.log")
	if err := os.WriteFile(logFile, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	got, want := fail2ban.WithRepoFilter(t, logFile), fail2ban.Failures(t, logFile, "assistd")
	if !slices.Equal(got, want) || len(got) != len(wantFail) {
		t.Fatalf("from the repository the filter counts\n%v\ninstalled it counts\n%v\nwant %d failures", got, want, len(wantFail))
	}
}

// TestFail2banJournalFormat checks the same lines as fail2ban's systemd
// backend shows them ("HOST assistd[PID]: MESSAGE", no date): the bare
// lines that assistd writes to stderr under systemd.
func TestFail2banJournalFormat(t *testing.T) {
	lines, wantFail, _ := writeMixedLog(t)
	var journal bytes.Buffer
	strip := len(time.Stamp) + 1
	for _, l := range strings.SplitAfter(string(lines), "\n") {
		if len(l) > strip {
			journal.WriteString(l[strip:])
		}
	}
	logFile := filepath.Join(t.TempDir(), "journal.txt")
	if err := os.WriteFile(logFile, journal.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fail2ban.Failures(t, logFile, "assistd[logtype=journal, datepattern={NONE}]") {
		got = append(got, f.IP+" "+f.Line)
	}
	var want []string
	for line, ip := range wantFail {
		want = append(want, ip+" "+line[strip:])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("journal-format failures\n got %q\nwant %q", got, want)
	}
}

// TestFail2banSameAsForSSHD is the promise itself: fail2ban counts assistd's
// lines under the assistd filter exactly as it counts the same lines from
// OpenSSH under the stock sshd filter. OpenSSH runs one process per
// connection, so the sshd version of the log gets one PID per connection.
func TestFail2banSameAsForSSHD(t *testing.T) {
	lines, _, _ := writeMixedLog(t)
	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "assistd.log"), filepath.Join(dir, "sshd.log")
	if err := os.WriteFile(ours, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(theirs, asSSHD(t, lines), 0o600); err != nil {
		t.Fatal(err)
	}
	got := failureMessages(fail2ban.Failures(t, ours, "assistd"))
	want := failureMessages(fail2ban.Failures(t, theirs, "sshd"))
	if !slices.Equal(got, want) {
		t.Errorf("assistd filter on assistd lines\n got %q\nsshd filter on the same lines from sshd\nwant %q", got, want)
	}
}

// asSSHD rewrites "gw assistd[4242]: " into "gw sshd[PID]: " with one PID
// per remote address and port, as OpenSSH would have logged the lines.
func asSSHD(t *testing.T, log []byte) []byte {
	t.Helper()
	conn := regexp.MustCompile(`[0-9a-f.:]+ port \d+`)
	pids := map[string]int{}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(log), "\n") {
		if line == "" {
			continue
		}
		c := conn.FindString(line)
		if c == "" {
			t.Fatalf("no connection in %q", line)
		}
		if pids[c] == 0 {
			pids[c] = 1000 + len(pids)
		}
		out.WriteString(strings.Replace(line, "assistd[4242]", "sshd["+strconv.Itoa(pids[c])+"]", 1))
	}
	return out.Bytes()
}

// failureMessages reduces failures to "IP message", without the prefix.
func failureMessages(fs []fail2ban.Match) []string {
	var out []string
	for _, f := range fs {
		_, msg, _ := strings.Cut(f.Line, "]: ")
		out = append(out, f.IP+" "+msg)
	}
	slices.Sort(out)
	return out
}

// writeMixedLog logs several interleaved connections and returns the log,
// the failure lines with the address fail2ban must blame, and the lines it
// must not count.
func writeMixedLog(t *testing.T) (log []byte, wantFail map[string]string, wantClean []string) {
	t.Helper()
	var buf bytes.Buffer
	clock := time.Date(2025, time.March, 7, 9, 0, 0, 0, time.Local)
	l := authlog.New(&buf, authlog.Options{Syslog: true, Hostname: "gw", PID: 4242, Now: func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	}})
	key := ed25519Key(t)
	alice := &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 40001}
	bob := &net.TCPAddr{IP: net.ParseIP("2001:db8::2"), Port: 40002}
	attacker := &net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 50001}
	attacker2 := &net.TCPAddr{IP: net.ParseIP("203.0.113.8"), Port: 50002}
	forger := &net.TCPAddr{IP: net.ParseIP("203.0.113.9"), Port: 50003}
	scanner := &net.TCPAddr{IP: net.ParseIP("203.0.113.10"), Port: 50004}

	wantFail = map[string]string{}
	fail := func(ip string) { wantFail[lastLine(buf.String())] = ip }
	clean := func() { wantClean = append(wantClean, lastLine(buf.String())) }

	// Interleaved on purpose: one assistd process serves them all, which
	// is what defeats the stock sshd filter's per-PID connection tracking.
	l.Failed("publickey", "alice", false, alice, key) // ssh-agent offered a key that is not hers
	clean()
	l.InvalidUser("root", attacker)
	fail("203.0.113.7")
	l.Failed("publickey", "root", true, attacker, key)
	fail("203.0.113.7")
	l.Accepted("publickey", "alice", alice, key)
	clean()
	l.Failed("publickey", "root", true, attacker, key)
	fail("203.0.113.7")
	l.Accepted("publickey", "bob", bob, key)
	clean()
	l.InvalidUser("admin", attacker2)
	fail("203.0.113.8")
	l.Refused("bob", bob, "shell")
	clean()
	l.MaxAuthTries("root", true, attacker)
	fail("203.0.113.7")
	// Counted because fail2ban saw two user names on this connection
	// ("root", and "invalid user root" from the line above); it does the
	// same for sshd.
	l.ClosedPreauth("root", true, attacker)
	fail("203.0.113.7")
	// A user name that tries to get alice's address banned.
	l.Failed("publickey", "x from 198.51.100.1 port 40001 ssh2:", true, forger, nil)
	fail("203.0.113.9")
	l.ClosedPreauth("admin", true, attacker2)
	clean() // a close after failures is not one more in the default mode
	l.TimeoutPreauth(scanner)
	clean()
	l.Disconnected("alice", alice)
	clean()
	l.Disconnected("bob", bob)
	clean()
	return buf.Bytes(), wantFail, wantClean
}

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func ed25519Key(t *testing.T) ssh.PublicKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
