package authlog

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

func TestEscapeField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"", ""},
		{"a b", `a\040b`},
		{"a\nb", `a\nb`},
		{"a\r\nb", `a\r\nb`},
		{"\t\b\a\v\f", `\t\b\a\v\f`},
		{`back\slash`, `back\\slash`},
		{"\x00x", `\0x`},
		{"\x007", `\0007`},
		{"\x1b[31mred", `\033[31mred`},
		{"\x7f", `\177`},
		{"é", `\303\251`},
		{"\xff", `\377`},
	}
	for _, tt := range tests {
		if got := escapeField(tt.in); got != tt.want {
			t.Errorf("escapeField(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeIsInjective decodes the escapes back: two different names can
// never log as the same text, so an audit reader can tell them apart.
func TestEscapeIsInjective(t *testing.T) {
	for _, s := range []string{"a b", "a\\040b", "\x00", "\\0", "\x007", "\\0007", "é\n\\"} {
		if got := unvis(t, escapeField(s)); got != s {
			t.Errorf("unvis(escapeField(%q)) = %q", s, got)
		}
	}
}

// unvis reverses escapeField, for the tests.
func unvis(t testing.TB, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i >= len(s) {
			t.Fatalf("dangling backslash in %q", s)
		}
		switch c := s[i]; c {
		case '\\':
			b.WriteByte('\\')
		case 'n', 'r', 't', 'b', 'a', 'v', 'f':
			b.WriteByte(map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', 'b': '\b', 'a': '\a', 'v': '\v', 'f': '\f'}[c])
		default:
			if c < '0' || c > '7' {
				t.Fatalf("bad escape \\%c in %q", c, s)
			}
			if i+2 < len(s) && isOct(s[i+1]) && isOct(s[i+2]) {
				b.WriteByte((c-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
				i += 2
			} else if c == '0' {
				b.WriteByte(0)
			} else {
				t.Fatalf("short octal escape in %q", s)
			}
		}
	}
	return b.String()
}

func isOct(c byte) bool { return c >= '0' && c <= '7' }

// FuzzOneLine feeds arbitrary user names, methods and refusal texts through
// every logging call and checks that each call writes exactly one line of
// printable ASCII that decodes back to the input.
func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"alice", "root", "x\nMar  7 gw sshd[1]: Invalid user y from 203.0.113.9", "a\x00\x1b[2J", "é", `\`, " from 192.0.2.9 port 22"} {
		f.Add(s, "publickey", "shell")
	}
	addr := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}
	f.Fuzz(func(t *testing.T, user, method, what string) {
		var out bytes.Buffer
		l := New(&out, Options{Syslog: true, Hostname: "gw", PID: 1, Now: fixedNow})
		calls := []func(){
			func() { l.Accepted(method, user, addr, nil) },
			func() { l.Failed(method, user, true, addr, nil) },
			func() { l.InvalidUser(user, addr) },
			func() { l.ClosedPreauth(user, false, addr) },
			func() { l.MaxAuthTries(user, true, addr) },
			func() { l.Disconnected(user, addr) },
			func() { l.Refused(user, addr, what) },
		}
		for _, call := range calls {
			out.Reset()
			call()
			line := out.Bytes()
			if bytes.Count(line, []byte{'\n'}) != 1 || line[len(line)-1] != '\n' {
				t.Fatalf("not exactly one line: %q", line)
			}
			for _, c := range line[:len(line)-1] {
				if c < ' ' || c >= 0x7f {
					t.Fatalf("unprintable byte %#x in %q", c, line)
				}
			}
		}
		if len(user) <= maxUser && unvis(t, escapeUser(user)) != user {
			t.Fatalf("escape of %q does not decode back", user)
		}
		if unvis(t, escapeField(what)) != what {
			t.Fatalf("escape of %q does not decode back", what)
		}
	})
}
