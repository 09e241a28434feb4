package tickets

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
)

var issueNow = time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)

// testHostKeys returns an ed25519 and an ECDSA host key, as a gateway with two keys has.
func testHostKeys(t testing.TB) []ssh.PublicKey {
	t.Helper()
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var keys []ssh.PublicKey
	for _, k := range []any{edPub, &ec.PublicKey} {
		pk, err := ssh.NewPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, pk)
	}
	return keys
}

func TestIssue(t *testing.T) {
	s, path := openTestStore(t)
	r := mustCreate(t, s, sampleRequest("Ada", "SHA256:agent"))
	gateways := []string{"help.example.org:2222", "[2001:db8::1]:2222"}
	hostKeys := testHostKeys(t)

	o, issued, err := Issue(s, strings.ToLower(strings.ReplaceAll(r.Code, "-", "")), "alice", 0, gateways, hostKeys, issueNow)
	if err != nil {
		t.Fatal(err)
	}
	cred := issued.Credential

	// The credential record.
	wantExpires := issueNow.Add(DefaultTTL).Truncate(time.Second)
	if cred.RequestID != r.ID || cred.RequestCode != r.Code || cred.Technician != "alice" ||
		cred.State != CredentialIssued || !cred.Expires.Equal(wantExpires) || !cred.Issued.Equal(issueNow) || cred.ID == "" {
		t.Errorf("credential = %+v", cred)
	}
	stored, err := s.Credential(cred.Fingerprint)
	if err != nil || stored.ID != cred.ID || !stored.Expires.Equal(cred.Expires) {
		t.Errorf("stored credential = %+v, %v", stored, err)
	}
	if list, _ := s.CredentialsForRequest(r.ID); len(list) != 1 || list[0].Fingerprint != cred.Fingerprint {
		t.Errorf("CredentialsForRequest = %+v", list)
	}
	evs, err := s.Events(EventFilter{Kind: "credential.issued"})
	if err != nil || len(evs) != 1 || evs[0].Request != r.Code || evs[0].Actor != "alice" ||
		evs[0].Attrs["fingerprint"] != cred.Fingerprint || evs[0].Attrs["credential"] != cred.ID {
		t.Errorf("audit events = %+v, %v", evs, err)
	}

	// The file, through its text form.
	data := o.Marshal()
	p, err := ParseOTC(data)
	if err != nil {
		t.Fatalf("ParseOTC(Marshal()): %v\n%s", err, data)
	}
	if strings.Join(p.Gateways, " ") != strings.Join(gateways, " ") || p.Request != r.Code || p.Technician != "alice" || !p.Expires.Equal(wantExpires) {
		t.Errorf("parsed file = %+v", p)
	}
	if len(p.HostKeys) != len(hostKeys) {
		t.Fatalf("parsed %d host keys, want %d", len(p.HostKeys), len(hostKeys))
	}
	for i, k := range hostKeys {
		if !bytes.Equal(p.HostKeys[i].Marshal(), k.Marshal()) {
			t.Errorf("host key %d changed in the round trip", i)
		}
	}
	if !bytes.Equal(p.Key, o.Key) {
		t.Error("private key changed in the round trip")
	}

	// The key works, and it is the one whose fingerprint the gateway keeps.
	signer, err := p.Signer()
	if err != nil {
		t.Fatal(err)
	}
	if fp := ssh.FingerprintSHA256(signer.PublicKey()); fp != cred.Fingerprint {
		t.Errorf("file's key has fingerprint %s, the store keeps %s", fp, cred.Fingerprint)
	}
	sig, err := signer.Sign(rand.Reader, []byte("session id"))
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.PublicKey().Verify([]byte("session id"), sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if !strings.HasPrefix(protocol.OTCUser(p.Request), "otc-") || !strings.HasSuffix(protocol.OTCUser(p.Request), r.Code) {
		t.Errorf("protocol.OTCUser(%s) = %s", p.Request, protocol.OTCUser(p.Request))
	}

	// The private key lives in the file only: not in any form in the store.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(o.Key)
	raw, err := ssh.ParseRawPrivateKey(o.Key)
	if err != nil {
		t.Fatal(err)
	}
	seed := raw.(*ed25519.PrivateKey).Seed()
	secrets := map[string][]byte{"the PEM": o.Key, "the PEM's raw bytes": block.Bytes, "the ed25519 seed": seed}
	for _, line := range strings.Split(string(o.Key), "\n") {
		if len(line) > 40 && !strings.HasPrefix(line, "-----") {
			secrets["a PEM body line"] = []byte(line)
		}
	}
	for what, b := range secrets {
		if bytes.Contains(db, b) {
			t.Errorf("the store file contains %s", what)
		}
	}
	if !bytes.Contains(db, []byte(cred.Fingerprint)) {
		t.Error("the store file does not contain the fingerprint: the byte search above proves nothing")
	}
}

func TestIssueTTL(t *testing.T) {
	s, _ := openTestStore(t)
	r := mustCreate(t, s, sampleRequest("Ada", ""))
	for _, tc := range []struct {
		ttl     time.Duration
		want    time.Duration // 0: refused
		wantErr string
	}{
		{0, DefaultTTL, ""},
		{MinTTL, MinTTL, ""},
		{MaxTTL, MaxTTL, ""},
		{time.Hour, time.Hour, ""},
		{MinTTL - time.Second, 0, "must be between 1m0s and 8h0m0s"},
		{MaxTTL + time.Second, 0, "must be between"},
		{-time.Hour, 0, "must be between"},
	} {
		_, issued, err := Issue(s, r.Code, "alice", tc.ttl, []string{"gw:22"}, testHostKeys(t)[:1], issueNow)
		if tc.want == 0 {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ttl %s: Issue = %v, want an error saying %q", tc.ttl, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ttl %s: %v", tc.ttl, err)
			continue
		}
		cred := issued.Credential
		if want := issueNow.Add(tc.want).Truncate(time.Second); !cred.Expires.Equal(want) {
			t.Errorf("ttl %s: expires %s, want %s", tc.ttl, cred.Expires, want)
		}
	}
}

func TestIssueRefuses(t *testing.T) {
	s, _ := openTestStore(t)
	open := mustCreate(t, s, sampleRequest("Ada", ""))
	closed := mustCreate(t, s, sampleRequest("Bob", ""))
	closeRequest(t, s, closed.Code)
	keys := testHostKeys(t)
	gws := []string{"gw.example.org:2222"}

	for _, tc := range []struct {
		name       string
		code, tech string
		gws        []string
		keys       []ssh.PublicKey
		want       string
	}{
		{"closed request", closed.Code, "alice", gws, keys, "is closed"},
		{"unknown request", "ZZZZ-ZZZZ", "alice", gws, keys, "not found"},
		{"no gateway address", open.Code, "alice", nil, keys, `missing field "gateway"`},
		{"gateway without port", open.Code, "alice", []string{"gw.example.org"}, keys, "want host:port"},
		{"gateway with a line break", open.Code, "alice", []string{"gw:22\nrequest: ZZZZ-ZZZZ"}, keys, "otc file"},
		{"no host key", open.Code, "alice", gws, nil, `missing field "host-key"`},
		{"no technician", open.Code, "", gws, keys, "not an account name"},
		{"technician with an escape", open.Code, "al\x1bice", gws, keys, "not an account name"},
		// Parses, but with the attacker's host key pinned beside the gateway's.
		{"technician slipping in a host key", open.Code, "alice\nhost-key: " + string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(testHostKeys(t)[0]))), gws, keys, "does not survive being written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := s.Events(EventFilter{})
			o, _, err := Issue(s, tc.code, tc.tech, 0, tc.gws, tc.keys, issueNow)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Issue = %v, want an error saying %q", err, tc.want)
			}
			if o != nil {
				t.Error("Issue returned a file with its error")
			}
			// Nothing recorded: no credential a file does not exist for, no audit event.
			for _, r := range []Request{open, closed} {
				if list, _ := s.CredentialsForRequest(r.ID); len(list) != 0 {
					t.Errorf("refused Issue recorded credentials: %+v", list)
				}
			}
			if after, _ := s.Events(EventFilter{}); len(after) != len(before) {
				t.Errorf("refused Issue appended audit events")
			}
		})
	}
	if _, err := s.Request("ZZZZ-ZZZZ"); !errors.Is(err, ErrNotFound) {
		t.Fatal("test assumes ZZZZ-ZZZZ is not a request")
	}
}
