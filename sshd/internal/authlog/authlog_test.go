package authlog

import (
	"bytes"
	"crypto/ed25519"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testKey is a fixed ed25519 key, so fingerprints in expectations are stable.
func testKey(t testing.TB, seed byte) ssh.PublicKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	return pub
}

func tcp(ip string, port int) net.Addr {
	return &net.TCPAddr{IP: net.ParseIP(ip), Port: port}
}

func fixedNow() time.Time { return time.Date(2025, time.March, 7, 9, 4, 5, 0, time.UTC) }

func TestWording(t *testing.T) {
	key := testKey(t, 1)
	fp := ssh.FingerprintSHA256(key)
	v4, v6, mapped := tcp("192.0.2.10", 50022), tcp("2001:db8::7", 41000), tcp("::ffff:198.51.100.4", 2)
	tests := []struct {
		name string
		log  func(*Logger)
		want string
	}{
		{"accepted", func(l *Logger) { l.Accepted("publickey", "alice", v4, key) },
			"Accepted publickey for alice from 192.0.2.10 port 50022 ssh2: ED25519 " + fp},
		{"accepted no key", func(l *Logger) { l.Accepted("none", "alice", v4, nil) },
			"Accepted none for alice from 192.0.2.10 port 50022 ssh2"},
		{"failed", func(l *Logger) { l.Failed("publickey", "alice", false, v4, key) },
			"Failed publickey for alice from 192.0.2.10 port 50022 ssh2: ED25519 " + fp},
		{"failed invalid", func(l *Logger) { l.Failed("publickey", "root", true, v6, key) },
			"Failed publickey for invalid user root from 2001:db8::7 port 41000 ssh2: ED25519 " + fp},
		{"failed no key", func(l *Logger) { l.Failed("none", "root", true, v4, nil) },
			"Failed none for invalid user root from 192.0.2.10 port 50022 ssh2"},
		{"invalid user", func(l *Logger) { l.InvalidUser("admin", v4) },
			"Invalid user admin from 192.0.2.10 port 50022"},
		{"closed authenticating", func(l *Logger) { l.ClosedPreauth("alice", false, v4) },
			"Connection closed by authenticating user alice 192.0.2.10 port 50022 [preauth]"},
		{"closed invalid", func(l *Logger) { l.ClosedPreauth("admin", true, v6) },
			"Connection closed by invalid user admin 2001:db8::7 port 41000 [preauth]"},
		{"closed no user", func(l *Logger) { l.ClosedPreauth("", false, v4) },
			"Connection closed by 192.0.2.10 port 50022 [preauth]"},
		{"max tries", func(l *Logger) { l.MaxAuthTries("alice", false, v4) },
			"error: maximum authentication attempts exceeded for alice from 192.0.2.10 port 50022 ssh2 [preauth]"},
		{"max tries invalid", func(l *Logger) { l.MaxAuthTries("admin", true, v4) },
			"error: maximum authentication attempts exceeded for invalid user admin from 192.0.2.10 port 50022 ssh2 [preauth]"},
		{"timeout", func(l *Logger) { l.TimeoutPreauth(v6) },
			"fatal: Timeout before authentication for 2001:db8::7 port 41000"},
		{"disconnected", func(l *Logger) { l.Disconnected("alice", mapped) },
			"Disconnected from user alice 198.51.100.4 port 2"},
		{"refused", func(l *Logger) { l.Refused("alice", v4, "shell") },
			"refused shell for user alice from 192.0.2.10 port 50022"},
		{"unknown addr", func(l *Logger) { l.InvalidUser("x", &net.UnixAddr{Name: "/run/s", Net: "unix"}) },
			"Invalid user x from UNKNOWN port 65535"},
		{"nil addr", func(l *Logger) { l.TimeoutPreauth(nil) },
			"fatal: Timeout before authentication for UNKNOWN port 65535"},
		{"zone", func(l *Logger) { l.InvalidUser("x", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 22, Zone: "eth0"}) },
			"Invalid user x from fe80::1%eth0 port 22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bare, sys bytes.Buffer
			tt.log(New(&bare, Options{}))
			if got := bare.String(); got != tt.want+"\n" {
				t.Errorf("bare line\n got %q\nwant %q", got, tt.want+"\n")
			}
			tt.log(New(&sys, Options{Syslog: true, Hostname: "gw", PID: 812, Now: fixedNow}))
			if want := "Mar  7 09:04:05 gw assistd[812]: " + tt.want + "\n"; sys.String() != want {
				t.Errorf("syslog line\n got %q\nwant %q", sys.String(), want)
			}
		})
	}
}

func TestCertificateKeyInfo(t *testing.T) {
	ca, user := testKey(t, 2), testKey(t, 3)
	cert := &ssh.Certificate{Key: user, KeyId: "alice laptop\n", Serial: 42, CertType: ssh.UserCert, SignatureKey: ca}
	var out bytes.Buffer
	New(&out, Options{}).Accepted("publickey", "alice", tcp("192.0.2.1", 1), cert)
	want := "Accepted publickey for alice from 192.0.2.1 port 1 ssh2: ED25519-CERT " + ssh.FingerprintSHA256(user) +
		` ID alice\040laptop\n (serial 42) CA ED25519 ` + ssh.FingerprintSHA256(ca) + "\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}

func TestUserNameIsEscapedAndTruncated(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, Options{})
	forged := "x\nMar  7 09:04:05 gw assistd[812]: Invalid user y from 203.0.113.9 port 1"
	l.Failed("publickey", forged, true, tcp("192.0.2.1", 7), nil)
	got := out.String()
	if strings.Count(got, "\n") != 1 {
		t.Fatalf("one call wrote %d lines: %q", strings.Count(got, "\n"), got)
	}
	want := `Failed publickey for invalid user x\nMar\040\0407\04009:04:05\040gw\040assistd[812]:\040Invalid\040user\040y\040from\040203.0.113.9\040port\0401 from 192.0.2.1 port 7 ssh2` + "\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	out.Reset()
	l.InvalidUser(strings.Repeat("a", 150), tcp("192.0.2.1", 7))
	if want := "Invalid user " + strings.Repeat("a", 100) + " from 192.0.2.1 port 7\n"; out.String() != want {
		t.Errorf("long user not truncated to 100 bytes: %q", out.String())
	}
}

func TestConcurrentLinesDoNotInterleave(t *testing.T) {
	// A plain buffer: if the Logger did not serialise its writes, the race
	// detector would report it here.
	var out bytes.Buffer
	l := New(&out, Options{Syslog: true, Hostname: "gw", PID: 1, Now: fixedNow})
	const writers, each = 8, 200
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				l.Failed("publickey", strings.Repeat("u", w+1), true, tcp("192.0.2.1", i), nil)
			}
		}()
	}
	for range writers {
		<-done
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("got %d lines, want %d", len(lines), writers*each)
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "Mar  7 09:04:05 gw assistd[1]: Failed publickey for invalid user u") || !strings.HasSuffix(line, " ssh2") {
			t.Fatalf("mangled line %q", line)
		}
	}
}
