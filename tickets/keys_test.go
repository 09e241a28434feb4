package tickets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// realHostKeyLines are the gateway host keys of the .otc samples in testdata, as `assistd hostkey`
// prints them.
func realHostKeyLines(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "two-gateways.otc"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := ParseOTC(data)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, k := range o.HostKeys {
		lines = append(lines, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))))
	}
	return lines
}

func TestParseKeyArg(t *testing.T) {
	lines := realHostKeyLines(t)
	file := filepath.Join(t.TempDir(), "gateway.pub")
	if err := os.WriteFile(file, []byte(lines[1]+" root@gateway\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arg  string
		want string // the key line, or "" for an error
		err  string
	}{
		{lines[0], lines[0], ""},
		{"  " + lines[0] + " assistd@gw\n", lines[0], ""},
		{file, lines[1], ""},
		{filepath.Join(t.TempDir(), "none.pub"), "", "is neither a key line nor a readable file"},
		{"ssh-ed25519 AAAA", "", `not a public key line like "ssh-ed25519 AAAA…"`},
		{"ecdsa-sha2-nistp256", "", "not a public key line"},
	} {
		k, err := ParseKeyArg(tc.arg)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "gateway key: ") {
				t.Errorf("ParseKeyArg(%q) = %v, want an error saying %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) != tc.want {
			t.Errorf("ParseKeyArg(%q) = %v, %v; want %s", tc.arg, k, err, tc.want)
		}
	}
}

// FuzzParseKeyArg gives ParseKeyArg key lines, and files holding anything (never a path the
// fuzzer made up, which could name a device). A key it accepts reads back the same.
func FuzzParseKeyArg(f *testing.F) {
	for _, l := range realHostKeyLines(f) {
		f.Add([]byte(l), false)
		f.Add([]byte(l+" comment\n"), true)
		f.Add([]byte("# gateway\n"+l+"\n"), true)
	}
	f.Add([]byte("ssh-ed25519 AAAA"), false)
	f.Add([]byte{}, true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, asFile bool) {
		arg := string(data)
		if asFile {
			arg = filepath.Join(dir, "key.pub")
			if err := os.WriteFile(arg, data, 0o600); err != nil {
				t.Fatal(err)
			}
		} else if !isKeyLine(arg) {
			return
		}
		k, err := ParseKeyArg(arg)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gateway key: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		again, err := ParseKeyArg(string(ssh.MarshalAuthorizedKey(k)))
		if err != nil || !bytes.Equal(again.Marshal(), k.Marshal()) {
			t.Fatalf("key %s does not read back: %v", ssh.FingerprintSHA256(k), err)
		}
	})
}
