package tickets

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// stamped returns an executable's bytes, a stamp for it, and the two sealed together by a new
// host key.
func stamped(t testing.TB) (exe []byte, s Stamp, file []byte, signer ssh.Signer) {
	t.Helper()
	signer, _, err := NewKey("gateway")
	if err != nil {
		t.Fatal(err)
	}
	exe = bytes.Repeat([]byte("\x7fELF the agent's code "), 100)
	s = Stamp{HelpDesk: "Example IT", Gateways: []string{"help.example.org:2222", "[2001:db8::7]:2222"},
		HostKey: signer.PublicKey(), Issued: time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)}
	trailer, err := SealStamp(bytes.NewReader(exe), s, signer)
	if err != nil {
		t.Fatal(err)
	}
	return exe, s, append(append([]byte(nil), exe...), trailer...), signer
}

func readStamp(file []byte) (Stamp, error) {
	return ReadStamp(bytes.NewReader(file), int64(len(file)))
}

func TestStampRoundTrip(t *testing.T) {
	_, s, file, _ := stamped(t)
	got, err := readStamp(file)
	if err != nil {
		t.Fatal(err)
	}
	if got.HelpDesk != s.HelpDesk || strings.Join(got.Gateways, ",") != strings.Join(s.Gateways, ",") ||
		!bytes.Equal(got.HostKey.Marshal(), s.HostKey.Marshal()) || !got.Issued.Equal(s.Issued) {
		t.Errorf("ReadStamp = %+v, want %+v", got, s)
	}
}

func TestNoStamp(t *testing.T) {
	exe, _, _, _ := stamped(t)
	for _, f := range [][]byte{exe, nil, []byte(stampMagic)} {
		if _, err := readStamp(f); !errors.Is(err, ErrNoStamp) {
			t.Errorf("ReadStamp of %d bytes without a stamp = %v, want ErrNoStamp", len(f), err)
		}
	}
}

// TestStampTampered: any change to the stamp or to the program under it, by someone without
// the gateway's private key, is refused.
func TestStampTampered(t *testing.T) {
	exe, s, file, _ := stamped(t)
	other, _, _ := NewKey("impostor")
	body := len(exe)
	replace := func(old, new string) []byte {
		if len(old) != len(new) {
			t.Fatalf("replace %q by %q changes the length", old, new)
		}
		i := bytes.Index(file[body:], []byte(old))
		if i < 0 {
			t.Fatalf("%q not in the stamp", old)
		}
		out := append([]byte(nil), file...)
		copy(out[body+i:], new)
		return out
	}
	resealed := func(edit func(*Stamp), signer ssh.Signer) []byte {
		s2 := s
		edit(&s2)
		tr, err := SealStamp(bytes.NewReader(exe), s2, signer)
		if err != nil {
			t.Fatal(err)
		}
		return append(append([]byte(nil), exe...), tr...)
	}
	keyLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey)))
	otherLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.PublicKey())))
	code := append([]byte(nil), file...)
	code[10] ^= 1
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"another address", replace("help.example.org", "evil.example.net")},
		{"another help desk name", replace("Example IT", "Exemple IT")},
		{"another host key, same signature", replace(keyLine, otherLine)},
		{"a later time", replace("2026-12-01", "2027-12-01")},
		{"the program changed under the stamp", code},
		{"the stamp moved onto another program", append(bytes.Repeat([]byte("x"), 7), file[body:]...)},
		{"cut short", append(append([]byte(nil), file[:len(file)-stampFooter-5]...), file[len(file)-stampFooter:]...)},
		{"lengths past the file", append(append([]byte(nil), file[:len(file)-stampFooter]...), append([]byte{0xff, 0, 0, 0, 0, 0, 0, 9}, stampMagic...)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var se *StampError
			if _, err := readStamp(tc.file); !errors.As(err, &se) {
				t.Fatalf("ReadStamp = %v, want a *StampError", err)
			}
		})
	}
	// Whoever holds a key can stamp with it, and the stamp then names that key: it verifies,
	// and an agent pins the impostor's key (docs/stamp.md, what a stamp proves).
	if got, err := readStamp(resealed(func(s *Stamp) { s.HostKey = other.PublicKey() }, other)); err != nil || !bytes.Equal(got.HostKey.Marshal(), other.PublicKey().Marshal()) {
		t.Errorf("a stamp sealed by another key: %+v, %v; want it to name that key", got, err)
	}
	if _, err := SealStamp(bytes.NewReader(exe), s, other); err == nil {
		t.Error("SealStamp signed a stamp naming a key it does not hold")
	}
}

func TestSealStampRefusesWhatAgentsRefuse(t *testing.T) {
	exe, s, _, signer := stamped(t)
	for _, edit := range []func(*Stamp){
		func(s *Stamp) { s.HelpDesk = "" },
		func(s *Stamp) { s.HelpDesk = "IT\nhost-key x" },
		func(s *Stamp) { s.Gateways = nil },
		func(s *Stamp) { s.Gateways = []string{"no-port"} },
		func(s *Stamp) { s.Gateways = []string{"a b:22"} },
	} {
		s2 := s
		edit(&s2)
		if _, err := SealStamp(bytes.NewReader(exe), s2, signer); err == nil {
			t.Errorf("SealStamp sealed %+v", s2)
		}
	}
}

// FuzzReadStamp feeds ReadStamp whole files ending like a stamp, seeded from a real one.
func FuzzReadStamp(f *testing.F) {
	_, _, file, _ := stamped(f)
	f.Add(file)
	f.Add(file[len(file)-stampFooter:])
	f.Fuzz(func(t *testing.T, file []byte) {
		s, err := readStamp(file)
		if err == nil && s.check() != nil {
			t.Fatalf("accepted a stamp its own check refuses: %+v", s)
		}
	})
}

// FuzzParseStampBody feeds the body parser, seeded from a real stamp's body.
func FuzzParseStampBody(f *testing.F) {
	_, s, _, _ := stamped(f)
	body, err := s.encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add([]byte("assist-stamp 1\nhelp-desk x\nhost-key y\nissued z\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseStampBody(body)
		if err != nil {
			return
		}
		again, err := s.encode()
		if err != nil {
			t.Fatalf("a parsed stamp does not encode: %v", err)
		}
		if s2, err := parseStampBody(again); err != nil || s2.HelpDesk != s.HelpDesk || len(s2.Gateways) != len(s.Gateways) {
			t.Fatalf("re-encoded stamp parses as %+v, %v", s2, err)
		}
	})
}
