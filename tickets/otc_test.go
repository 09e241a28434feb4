package tickets

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
)

var update = flag.Bool("update", false, "rewrite tickets/testdata/*.otc from freshly issued credentials")

// issueOTC issues a real credential on a fresh store and returns its file.
func issueOTC(t testing.TB, gateways []string, hostKeys []ssh.PublicKey) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "assist.db")
	s, err := OpenBolt(path, BoltOptions{AuditKey: testAuditKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.CreateRequest(sampleRequest("Ada", ""))
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := Issue(s, r.Code, "alice", time.Hour, gateways, hostKeys, issueNow)
	if err != nil {
		t.Fatal(err)
	}
	return o.Marshal()
}

// TestOTCTestdata checks the sample files kept as fuzz seeds and documentation examples; with
// -update it first writes new ones (their keys are throw-away: nothing accepts them). The
// repository ignores *.otc, so these are added with git add -f.
func TestOTCTestdata(t *testing.T) {
	if *update {
		keys := testHostKeys(t)
		one := issueOTC(t, []string{"help.example.org:2222"}, keys[:1])
		two := issueOTC(t, []string{"help.example.org:2222", "[2001:db8::10]:2222"}, keys)
		crlf := bytes.ReplaceAll(issueOTC(t, []string{"192.0.2.1:22"}, keys[1:]), []byte("\n"), []byte("\r\n"))
		for name, data := range map[string][]byte{"one-gateway.otc": one, "two-gateways.otc": two, "crlf.otc": crlf} {
			if err := os.WriteFile(filepath.Join("testdata", name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.otc"))
	if len(files) < 3 {
		t.Fatalf("testdata has %d .otc files; run: go test -run TestOTCTestdata -update ./tickets/", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o, err := ParseOTC(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, err := o.Signer(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// sampleOTC is a real issued file, as text, for tests that edit it.
func sampleOTC(t *testing.T) string {
	t.Helper()
	return string(issueOTC(t, []string{"help.example.org:2222", "192.0.2.1:22"}, testHostKeys(t)))
}

// editLine replaces the first line starting with prefix (the whole line) by repl; repl "" drops it.
func editLine(t *testing.T, file, prefix, repl string) string {
	t.Helper()
	lines := strings.Split(file, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			if repl == "" {
				return strings.Join(append(lines[:i:i], lines[i+1:]...), "\n")
			}
			lines[i] = repl
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no line starting with %q in\n%s", prefix, file)
	return ""
}

func TestParseOTCAccepts(t *testing.T) {
	good := sampleOTC(t)
	keyStart := strings.Index(good, pemBegin)
	header, key := good[:keyStart], good[keyStart:]
	for _, tc := range []struct {
		name string
		file string
	}{
		{"as written", good},
		{"CRLF line endings", strings.ReplaceAll(good, "\n", "\r\n")},
		{"no comments", strings.Join(regexp.MustCompile(`(?m)^#.*\n`).Split(good, -1), "")},
		{"comments and blank lines between fields", strings.ReplaceAll(header, "\n", "\n\n# note\n") + key},
		{"fields in another order", editLine(t, editLine(t, header, "expires: ", ""), "assist-otc: ", "assist-otc: 1\n"+regexp.MustCompile(`(?m)^expires: .*$`).FindString(good)) + key},
		{"blank lines after the key", good + "\n\n   \n"},
		{"no final newline", strings.TrimSuffix(good, "\n")},
		{"exactly the size limit, with one long comment line", "#" + strings.Repeat("x", MaxOTCSize-len(good)-2) + "\n" + good},
		{"lower-case request code without dash", regexp.MustCompile(`(?m)^request: (....)-(....)$`).ReplaceAllStringFunc(good, func(l string) string {
			return strings.ToLower(strings.ReplaceAll(l, "-", ""))
		})},
		{"expiry with an offset", regexp.MustCompile(`(?m)^expires: .*$`).ReplaceAllString(good, "expires: 2026-11-24T12:00:00+01:00")},
		{"expiry with a fraction of a second", regexp.MustCompile(`(?m)^expires: .*$`).ReplaceAllString(good, "expires: 2026-11-24T11:00:00.5Z")},
		{"host key with a comment", regexp.MustCompile(`(?m)^(host-key: .*)$`).ReplaceAllString(good, "$1 gateway@example")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOTC([]byte(tc.file))
			if err != nil {
				t.Fatalf("%v\n%s", err, tc.file)
			}
			if len(o.Gateways) != 2 || len(o.HostKeys) != 2 || o.Technician != "alice" || !codeShape.MatchString(o.Request) || o.Expires.IsZero() {
				t.Errorf("parsed %+v", o)
			}
			if _, err := o.Signer(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseOTCRefuses(t *testing.T) {
	good := sampleOTC(t)
	keyStart := strings.Index(good, pemBegin)
	header, key := good[:keyStart], good[keyStart:]
	keyLines := strings.Split(strings.TrimSpace(key), "\n")
	for _, tc := range []struct {
		name string
		file string
		line int // 0: the file as a whole
		want string
	}{
		{"unknown version", editLine(t, good, "assist-otc: ", "assist-otc: 2"), 3, `version "2"; this assist reads version 1`},
		{"version not a number", editLine(t, good, "assist-otc: ", "assist-otc: one"), 3, `version "one"`},
		{"not an otc file", "[Desktop Entry]\nName=x\n", 1, `want "name: value"`},
		{"another header", "ssh-config: 1\n" + good, 1, "not an assist .otc file"},
		{"empty", "", 0, `missing field "gateway"`},
		{"header missing", editLine(t, good, "assist-otc: ", ""), 3, "not an assist .otc file"},
		{"key before the header", key + header, 1, "private key before the header"},
		{"unknown field", editLine(t, good, "technician: ", "technician: alice\ncolour: blue"), 10, `unknown field "colour"`},
		{"field in upper case", editLine(t, good, "technician: ", "Technician: alice"), 9, `unknown field "Technician"`},
		{"header twice", editLine(t, good, "technician: ", "technician: alice\nassist-otc: 1"), 10, `unknown field "assist-otc"`},
		{"repeated request", editLine(t, good, "technician: ", "technician: alice\nrequest: K7QH-4ZPD"), 10, "request given twice"},
		{"repeated technician", editLine(t, good, "technician: ", "technician: alice\ntechnician: bob"), 10, "technician given twice"},
		{"repeated expires", editLine(t, good, "technician: ", "technician: alice\nexpires: 2030-01-01T00:00:00Z"), 11, "expires given twice"},
		{"missing gateway", editLine(t, editLine(t, good, "gateway: ", ""), "gateway: ", ""), 0, `missing field "gateway"`},
		{"missing host-key", editLine(t, editLine(t, good, "host-key: ", ""), "host-key: ", ""), 0, `missing field "host-key"`},
		{"missing request", editLine(t, good, "request: ", ""), 0, `missing field "request"`},
		{"missing technician", editLine(t, good, "technician: ", ""), 0, `missing field "technician"`},
		{"missing expires", editLine(t, good, "expires: ", ""), 0, `missing field "expires"`},
		{"missing key", header, 0, "missing private key"},
		{"no space after colon", editLine(t, good, "request: ", "request:K7QH-4ZPD"), 8, `want "name: value"`},
		{"bad host key", editLine(t, good, "host-key: ", "host-key: ssh-ed25519 AAAAnotbase64"), 6, "host-key: not a public key line"},
		{"host key type only", editLine(t, good, "host-key: ", "host-key: ssh-ed25519"), 6, "host-key: not a public key line"},
		{"host key of a private key", editLine(t, good, "host-key: ", "host-key: "+keyLines[1]), 6, "host-key: not a public key line"},
		{"gateway without port", editLine(t, good, "gateway: ", "gateway: help.example.org"), 4, `gateway "help.example.org": want host:port`},
		{"gateway with a space", editLine(t, good, "gateway: ", "gateway: help example:22"), 4, "want host:port"},
		{"gateway with an escape", editLine(t, good, "gateway: ", "gateway: \x1b[2Jhelp:22"), 4, "want host:port"},
		{"gateway too long", editLine(t, good, "gateway: ", "gateway: "+strings.Repeat("h", 300)+":22"), 4, "want host:port"},
		{"bad request code", editLine(t, good, "request: ", "request: K0QH-4ZPD"), 8, "character '0' is not used"},
		{"technician with an escape", editLine(t, good, "technician: ", "technician: al\x1bice"), 9, "not an account name"},
		{"technician empty", editLine(t, good, "technician: ", "technician: "), 9, "not an account name"},
		{"technician too long", editLine(t, good, "technician: ", "technician: "+strings.Repeat("a", 65)), 9, "not an account name"},
		{"bad expiry", editLine(t, good, "expires: ", "expires: tomorrow"), 10, `expires "tomorrow": want a time like`},
		{"expiry before 1970 in UTC", editLine(t, good, "expires: ", "expires: 0000-01-01T00:00:00+01:00"), 10, "out of range"},
		{"expiry past year 9999 in UTC", editLine(t, good, "expires: ", "expires: 9999-12-31T23:59:59-01:00"), 10, "out of range"},
		{"expiry without zone", editLine(t, good, "expires: ", "expires: 2026-11-24T10:15:00"), 10, "want a time like"},
		{"truncated key", strings.Join(strings.Split(good, "\n")[:13], "\n"), 13, "private key is truncated"},
		{"key missing its middle", strings.Replace(good, keyLines[2]+"\n", "", 1), 0, "private key:"},
		{"garbled key", strings.Replace(good, keyLines[2], strings.Repeat("!", len(keyLines[2])), 1), 0, "private key:"},
		{"text after key", good + "gateway: evil.example:22\n", 19, "text after the private key"},
		{"second key", good + key, 19, "text after the private key"},
		{"oversize", good + strings.Repeat("#", MaxOTCSize), 0, "larger than any .otc file"},
		{"one byte over the limit", "#" + strings.Repeat("x", MaxOTCSize-len(good)) + "\n" + good, 0, "larger than any .otc file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOTC([]byte(tc.file))
			if err == nil {
				t.Fatalf("ParseOTC accepted %+v from\n%s", o, tc.file)
			}
			var oe *OTCError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v (%T) is not an *OTCError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "otc file") {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			if tc.want != "" && oe.Line != tc.line {
				t.Errorf("error at line %d (%v), want line %d", oe.Line, err, tc.line)
			}
			if tc.line != 0 && !strings.Contains(err.Error(), fmt.Sprintf("line %d:", tc.line)) {
				t.Errorf("message %q does not name line %d", err, tc.line)
			}
		})
	}
}

// TestOTCExpiresRoundTrip covers the expiry values a fuzzer seldom builds: fractions of a
// second and offsets that move the year.
func TestOTCExpiresRoundTrip(t *testing.T) {
	good := sampleOTC(t)
	for _, tc := range []struct{ in, want string }{
		{"2026-11-24T11:00:00Z", "2026-11-24T11:00:00Z"},
		{"2026-11-24T12:00:00+01:00", "2026-11-24T11:00:00Z"},
		{"2026-11-24T11:00:00.5Z", "2026-11-24T11:00:00.5Z"},
		{"2026-11-24T11:00:00.000Z", "2026-11-24T11:00:00Z"},
		{"2026-11-24T11:00:00.123456789Z", "2026-11-24T11:00:00.123456789Z"},
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"9999-12-31T22:59:59-01:00", "9999-12-31T23:59:59Z"},
	} {
		o, err := ParseOTC([]byte(editLine(t, good, "expires: ", "expires: "+tc.in)))
		if err != nil {
			t.Errorf("expires %s: %v", tc.in, err)
			continue
		}
		if o.Expires.Location() != time.UTC {
			t.Errorf("expires %s parsed in %s, want UTC", tc.in, o.Expires.Location())
		}
		line := regexp.MustCompile(`(?m)^expires: .*$`).FindString(string(o.Marshal()))
		if line != "expires: "+tc.want {
			t.Errorf("expires %s written as %q, want %q", tc.in, line, "expires: "+tc.want)
		}
		again, err := ParseOTC(o.Marshal())
		if err != nil || !again.Expires.Equal(o.Expires) {
			t.Errorf("expires %s: re-parsed %v, %v", tc.in, again, err)
		}
	}
}

func TestPinnedHostKeys(t *testing.T) {
	keys := testHostKeys(t)
	other := testHostKeys(t)[0]
	cb := PinnedHostKeys(keys)
	for i, k := range keys {
		if err := cb("gw:22", nil, k); err != nil {
			t.Errorf("pinned key %d refused: %v", i, err)
		}
	}
	err := cb("gw:22", nil, other)
	var he *HostKeyError
	if !errors.As(err, &he) || he.Host != "gw:22" || he.Got != ssh.FingerprintSHA256(other) {
		t.Fatalf("unpinned key: %v", err)
	}
	if !strings.Contains(err.Error(), "refusing to connect") {
		t.Errorf("message %q does not say the connection is refused", err)
	}
	if err := PinnedHostKeys(nil)("gw:22", nil, keys[0]); err == nil {
		t.Error("no pinned keys accepted a host key")
	}
	o := &OTC{HostKeys: keys[1:]}
	if o.HostKeyCallback()("gw:22", nil, keys[0]) == nil || o.HostKeyCallback()("gw:22", nil, keys[1]) != nil {
		t.Error("OTC.HostKeyCallback does not pin the file's keys")
	}
}

func TestOTCMarshalLayout(t *testing.T) {
	o, err := ParseOTC([]byte(sampleOTC(t)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(o.Marshal()), "\n")
	want := []string{"# ", "# ", "assist-otc: 1", "gateway: help.example.org:2222", "gateway: 192.0.2.1:22", "host-key: ssh-ed25519 ", "host-key: ecdsa-sha2-nistp256 ", "request: ", "technician: alice", "expires: 2026-11-24T11:00:00Z", pemBegin}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], w)
		}
	}
	if lines[len(lines)-2] != pemEnd || lines[len(lines)-1] != "" {
		t.Errorf("file does not end with the key's END line and a newline: %q", lines[len(lines)-2:])
	}
	if n := len(o.Marshal()); n > 2048 {
		t.Errorf("a two-gateway file is %d bytes; docs/otc.md says about 1 KiB", n)
	}
}

// otcEqual compares two parsed files field by field (host keys by their wire form, times as
// instants).
func otcEqual(a, b *OTC) error {
	switch {
	case strings.Join(a.Gateways, "\n") != strings.Join(b.Gateways, "\n") || len(a.Gateways) != len(b.Gateways):
		return fmt.Errorf("gateways %q != %q", a.Gateways, b.Gateways)
	case len(a.HostKeys) != len(b.HostKeys):
		return fmt.Errorf("%d host keys != %d", len(a.HostKeys), len(b.HostKeys))
	case a.Request != b.Request || a.Technician != b.Technician:
		return fmt.Errorf("request/technician %q/%q != %q/%q", a.Request, a.Technician, b.Request, b.Technician)
	case !a.Expires.Equal(b.Expires):
		return fmt.Errorf("expires %s != %s", a.Expires, b.Expires)
	case !bytes.Equal(a.Key, b.Key):
		return fmt.Errorf("key %q != %q", a.Key, b.Key)
	}
	for i := range a.HostKeys {
		if !bytes.Equal(a.HostKeys[i].Marshal(), b.HostKeys[i].Marshal()) {
			return fmt.Errorf("host key %d differs", i)
		}
	}
	return nil
}

func FuzzParseOTC(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.otc"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(issueOTC(f, []string{"gw.example.org:22"}, testHostKeys(f)))
	f.Add([]byte("assist-otc: 1\n"))
	f.Add([]byte("assist-otc: 2\ngateway: a:1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOTC(data)
		if err != nil {
			var oe *OTCError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v is not an *OTCError", err)
			}
			return
		}
		written := o.Marshal()
		again, err := ParseOTC(written)
		if err != nil {
			t.Fatalf("a parsed file does not re-parse: %v\n%s", err, written)
		}
		if err := otcEqual(o, again); err != nil {
			t.Fatalf("re-parsed file differs: %v\n%s", err, written)
		}
		if !bytes.Equal(again.Marshal(), written) {
			t.Fatalf("Marshal is not stable:\n%s\n---\n%s", written, again.Marshal())
		}
		if _, err := o.Signer(); err != nil {
			t.Fatalf("parsed key is not a signer: %v", err)
		}
	})
}

// TestOTCDocExample keeps docs/otc.md's example a file that parses, with the fields it describes.
func TestOTCDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "otc.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```otc\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/otc.md has no ```otc example")
	}
	o, err := ParseOTC(m[1])
	if err != nil {
		t.Fatalf("docs/otc.md example: %v", err)
	}
	if len(o.Gateways) < 2 || len(o.HostKeys) < 2 {
		t.Errorf("the example should show repeated gateway and host-key fields: %+v", o)
	}
	if !bytes.Contains(doc, []byte("`"+protocol.OTCUser(o.Request)+"`")) {
		t.Errorf("docs/otc.md does not show the example's SSH user %s", protocol.OTCUser(o.Request))
	}
	if !bytes.Contains(doc, []byte(fmt.Sprintf("%d KiB", MaxOTCSize>>10))) {
		t.Errorf("docs/otc.md does not state the %d KiB limit", MaxOTCSize>>10)
	}
}
