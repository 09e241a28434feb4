package helpdesk_test

import (
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/assistkit/assist/internal/harness/fail2ban"
	"github.com/assistkit/assist/internal/harness/testenv"
)

// lockOut fails sign-ins as alice from c until a wait starts, checks that even the right
// password is then refused unchecked (429), and returns how many failures that took.
func lockOut(t *testing.T, c *client) int {
	t.Helper()
	for n := 1; n <= 40; n++ {
		res := c.trySignIn("alice", "guess "+string(rune('a'+n%26)))
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s, want 401", n, res.Status)
		}
		if !strings.Contains(res.Body, "Too many failed attempts") {
			continue
		}
		if res := c.trySignIn("alice", password); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the right password after %d failures: %s, want 429", n, res.Status)
		}
		return n
	}
	t.Fatal("40 failures did not lock the attacker out")
	return 0
}

// webFailures runs fail2ban-regex with the shipped assistd-web filter over the gateway's auth
// log, and returns the address of each failure it would count.
func webFailures(t *testing.T, d *desk) []string {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "auth.log")
	if err := os.WriteFile(logFile, []byte(d.AuthLog.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, m := range fail2ban.Regex(t, logFile, testenv.RepoFile(t, "scripts/fail2ban/filter.d/assistd-web.conf"), "-d", "{NONE}") {
		ips = append(ips, m.IP)
	}
	return ips
}

func countLines(log, re string) int {
	return len(regexp.MustCompile(`(?m)^`+re+`$`).FindAllString(log, -1))
}

func TestLockedOutAttackerDoesNotLockOutTechnician(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	attacker := d.clientFrom(t, "127.0.0.2")
	failures := lockOut(t, attacker)
	if failures != 6 {
		t.Errorf("locked out after %d failures of alice at one address, want 6 (5 free)", failures)
	}
	// The technician, from another address, signs in with the right password at once.
	d.client(t).signIn("alice")

	// An attacker failing with ever new names is locked out by address, still without
	// touching the technician.
	for i := 0; ; i++ {
		res := attacker.trySignIn("name"+strings.Repeat("x", i), "guess")
		if res.StatusCode == http.StatusTooManyRequests {
			break
		}
		if i > 40 {
			t.Fatal("the attacker's address was never throttled")
		}
	}
	if res := attacker.trySignIn("bob", password); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a throttled address tried another account: %s, want 429", res.Status)
	}
	d.client(t).signIn("alice")

	log := d.AuthLog.String()
	if n := countLines(log, `Failed web password for alice from 127\.0\.0\.2 port \d+`); n != failures {
		t.Errorf("%d failed-password lines for the attacker, want %d:\n%s", n, failures, log)
	}
	if n := countLines(log, `Failed web password for invalid user namex* from 127\.0\.0\.2 port \d+`); n < 10 {
		t.Errorf("%d invalid-user lines for the attacker:\n%s", n, log)
	}
	if n := countLines(log, `Refused web sign-in for alice from 127\.0\.0\.2 port \d+: too many failures`); n != 1 {
		t.Errorf("%d throttled lines for alice at the attacker's address, want 1 per wait:\n%s", n, log)
	}
	if n := countLines(log, `Accepted web password for alice from 127\.0\.0\.1 port \d+`); n != 2 {
		t.Errorf("%d accepted lines for the technician, want 2:\n%s", n, log)
	}
	ips := webFailures(t, d)
	if len(ips) < failures+10 || strings.Count(strings.Join(ips, " "), "127.0.0.2") != len(ips) {
		t.Errorf("fail2ban would count %v, want every web failure, all from 127.0.0.2", ips)
	}
}

func TestTrustedProxyForwardedFor(t *testing.T) {
	d := startDesk(t, deskOptions{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	d.addTech(t, "alice")
	// Through the proxy: the attacker writes an address of its own in front, the proxy appends
	// the one it saw. Only the proxy's word counts.
	attacker := d.client(t)
	attacker.xff = "192.0.2.10, 198.51.100.7"
	failures := lockOut(t, attacker)
	tech := d.client(t)
	tech.xff = "192.0.2.10"
	tech.signIn("alice")
	// Not through the proxy: a peer outside the trusted range is not believed.
	direct := d.clientFrom(t, "127.0.0.2")
	direct.xff = "192.0.2.10"
	direct.trySignIn("alice", "guess")

	log := d.AuthLog.String()
	for _, c := range []struct {
		re   string
		want int
	}{
		{`Failed web password for alice from 198\.51\.100\.7 port 0`, failures},
		{`Refused web sign-in for alice from 198\.51\.100\.7 port 0: too many failures`, 1},
		{`Accepted web password for alice from 192\.0\.2\.10 port 0`, 1},
		{`Failed web password for alice from 127\.0\.0\.2 port \d+`, 1},
	} {
		if n := countLines(log, c.re); n != c.want {
			t.Errorf("%d lines %s, want %d:\n%s", n, c.re, c.want, log)
		}
	}
	if ips := webFailures(t, d); len(ips) != failures+2 || slicesCount(ips, "198.51.100.7") != failures+1 || slicesCount(ips, "127.0.0.2") != 1 {
		t.Errorf("fail2ban would count %v, want the attacker's %d and the direct peer's 1", ips, failures+1)
	}
	if e := auditKinds(t, d.Store, "web.auth.accepted"); len(e) != 1 || e[0].Remote != "192.0.2.10" {
		t.Errorf("web.auth.accepted %+v, want one from the technician's forwarded address", e)
	}
}

func slicesCount(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
