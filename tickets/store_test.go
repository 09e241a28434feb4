package tickets

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestCreateAndFindRequest(t *testing.T) {
	s, _ := openTestStore(t)
	r := mustCreate(t, s, sampleRequest("Ada Lovelace", "SHA256:agent-a"))

	if r.ID == "" || r.State != StateWaiting || r.Created.IsZero() || !r.Updated.Equal(r.Created) {
		t.Fatalf("CreateRequest did not assign ID, state and times: %+v", r)
	}
	if got, err := NormalizeCode(r.Code); err != nil || got != r.Code {
		t.Fatalf("assigned code %q is not canonical (NormalizeCode: %q, %v)", r.Code, got, err)
	}
	plain := strings.ReplaceAll(r.Code, "-", "")
	for _, spelling := range []string{
		r.Code,
		strings.ToLower(r.Code),
		plain,
		strings.ToLower(plain),
		plain[:4] + " " + plain[4:],
		" " + strings.ToLower(plain[:2]) + " " + plain[2:6] + "-" + plain[6:] + " ",
		r.ID,
	} {
		got, err := s.Request(spelling)
		if err != nil {
			t.Errorf("Request(%q): %v", spelling, err)
			continue
		}
		if got.ID != r.ID || got.FullName != "Ada Lovelace" || got.Message != r.Message {
			t.Errorf("Request(%q) = %+v, want the request just created", spelling, got)
		}
	}
}

func TestRequestNotFound(t *testing.T) {
	s, _ := openTestStore(t)
	mustCreate(t, s, sampleRequest("Ada", ""))
	for _, q := range []string{"ZZZZ-ZZZZ", "0123456789abcdef01234567", "", "no such thing"} {
		if _, err := s.Request(q); !errors.Is(err, ErrNotFound) {
			t.Errorf("Request(%q) = %v, want ErrNotFound", q, err)
		}
		if _, err := s.UpdateRequest(q, func(*Request) error { return nil }); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateRequest(%q) = %v, want ErrNotFound", q, err)
		}
	}
}

func TestRequestsNewestFirst(t *testing.T) {
	s, _ := openTestStore(t)
	var made []Request
	for _, name := range []string{"first", "second", "third", "fourth"} {
		made = append(made, mustCreate(t, s, sampleRequest(name, "")))
	}
	closeRequest(t, s, made[1].Code)

	names := func(rs []Request) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.FullName)
		}
		return strings.Join(out, ",")
	}
	open, err := s.Requests(RequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(open.Requests), "fourth,third,first"; got != want {
		t.Errorf("Requests(false) = %s, want %s (newest first, closed left out)", got, want)
	}
	all, err := s.Requests(RequestQuery{Closed: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(all.Requests), "fourth,third,second,first"; got != want {
		t.Errorf("Requests(true) = %s, want %s", got, want)
	}
}

func closeRequest(t *testing.T, s *Bolt, code string) Request {
	t.Helper()
	r, err := s.UpdateRequest(code, func(r *Request) error {
		r.State, r.ClosedBy, r.Closed = StateClosed, "alice", time.Now().UTC()
		return nil
	})
	if err != nil {
		t.Fatalf("close %s: %v", code, err)
	}
	return r
}

func TestUpdateRequest(t *testing.T) {
	s, _ := openTestStore(t)
	r := mustCreate(t, s, sampleRequest("Ada", ""))

	got, err := s.UpdateRequest(strings.ToLower(r.Code), func(r *Request) error {
		r.State = StateActive
		r.RemoteAddr = "198.51.100.7:50000"
		// Identity fields are the store's: an update cannot move a request to another code.
		r.ID, r.Code, r.Created = "other", "ZZZZ-ZZZZ", time.Time{}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateActive || got.RemoteAddr != "198.51.100.7:50000" {
		t.Errorf("update not applied: %+v", got)
	}
	if got.ID != r.ID || got.Code != r.Code || !got.Created.Equal(r.Created) {
		t.Errorf("update changed identity: got %s/%s/%s, want %s/%s/%s", got.ID, got.Code, got.Created, r.ID, r.Code, r.Created)
	}
	if !got.Updated.After(r.Updated) {
		t.Errorf("Updated %s not after %s", got.Updated, r.Updated)
	}
	stored, err := s.Request(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.State != StateActive || stored.Code != r.Code {
		t.Errorf("stored request = %+v, want the update", stored)
	}
	if _, err := s.Request("ZZZZ-ZZZZ"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the code fn tried to set resolves: %v", err)
	}
}

func TestUpdateRequestErrorChangesNothing(t *testing.T) {
	s, _ := openTestStore(t)
	r := mustCreate(t, s, sampleRequest("Ada", "SHA256:agent-a"))
	boom := errors.New("boom")
	_, err := s.UpdateRequest(r.Code, func(r *Request) error {
		r.State, r.FullName, r.AgentKey = StateClosed, "Mallory", "SHA256:agent-b"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateRequest returned %v, want fn's error", err)
	}
	stored, err := s.Request(r.Code)
	if err != nil {
		t.Fatal(err)
	}
	if stored.State != StateWaiting || stored.FullName != "Ada" || !stored.Updated.Equal(r.Updated) {
		t.Errorf("failed update left changes behind: %+v", stored)
	}
	if got, err := s.OpenRequestByAgent("SHA256:agent-a"); err != nil || got.ID != r.ID {
		t.Errorf("agent key binding lost after failed update: %v", err)
	}
	if _, err := s.OpenRequestByAgent("SHA256:agent-b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed update bound another agent key: %v", err)
	}
}

func TestAgentKeyBinding(t *testing.T) {
	s, _ := openTestStore(t)
	const key = "SHA256:Vj1r0p1H2y9yq3xQ7qJ3b7l9j0Zl8M1dTg2K8i4Pq2E"
	first := mustCreate(t, s, sampleRequest("Ada", key))
	mustCreate(t, s, sampleRequest("Other", "SHA256:someone-else"))

	got, err := s.OpenRequestByAgent(key)
	if err != nil || got.ID != first.ID {
		t.Fatalf("OpenRequestByAgent = %v, %v; want %s", got.ID, err, first.ID)
	}
	closeRequest(t, s, first.Code)
	if _, err := s.OpenRequestByAgent(key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after close, OpenRequestByAgent = %v, want ErrNotFound", err)
	}
	second := mustCreate(t, s, sampleRequest("Ada", key))
	got, err = s.OpenRequestByAgent(key)
	if err != nil || got.ID != second.ID {
		t.Fatalf("after a new request, OpenRequestByAgent = %v, %v; want %s", got.ID, err, second.ID)
	}
	// Closing the old request again (or editing it) must not unbind the new one.
	if _, err := s.UpdateRequest(first.Code, func(r *Request) error { r.Message = "edited"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OpenRequestByAgent(key); err != nil || got.ID != second.ID {
		t.Fatalf("editing the closed request disturbed the new binding: %v, %v", got.ID, err)
	}
	if _, err := s.OpenRequestByAgent("SHA256:never-seen"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown agent key: %v, want ErrNotFound", err)
	}
}

func TestStoreSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "assist.db")
	s := openStoreAt(t, path, testAuditKey)
	r := mustCreate(t, s, sampleRequest("Ada", "SHA256:agent-a"))
	if err := s.AddUser(User{Name: "alice", FullName: "Alice", Keys: []string{"ssh-ed25519 AAAA alice"}}); err != nil {
		t.Fatal(err)
	}
	cred := sampleCredential(r, "SHA256:cred-1")
	if err := s.AddCredential(cred); err != nil {
		t.Fatal(err)
	}
	ev, err := s.AppendEvent(Event{Kind: "request.filed", Request: r.Code})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openStoreAt(t, path, testAuditKey)
	if got, err := s2.Request(r.Code); err != nil || got.FullName != "Ada" {
		t.Errorf("request after reopen: %+v, %v", got, err)
	}
	if got, err := s2.OpenRequestByAgent("SHA256:agent-a"); err != nil || got.ID != r.ID {
		t.Errorf("agent binding after reopen: %v", err)
	}
	if got, err := s2.User("alice"); err != nil || got.FullName != "Alice" {
		t.Errorf("user after reopen: %+v, %v", got, err)
	}
	if got, err := s2.Credential(cred.Fingerprint); err != nil || got.ID != cred.ID {
		t.Errorf("credential after reopen: %+v, %v", got, err)
	}
	evs, err := s2.Events(EventFilter{})
	if err != nil || len(evs) != 1 || evs[0].Hash != ev.Hash {
		t.Errorf("events after reopen: %+v, %v", evs, err)
	}
	if err := s2.VerifyEvents(); err != nil {
		t.Errorf("VerifyEvents after reopen: %v", err)
	}
	// The chain continues where it stopped.
	ev2, err := s2.AppendEvent(Event{Kind: "request.closed"})
	if err != nil || ev2.Seq != 2 || ev2.Prev != ev.Hash {
		t.Errorf("event after reopen = seq %d prev %q, %v; want seq 2 following %q", ev2.Seq, ev2.Prev, err, ev.Hash)
	}
}

func sampleCredential(r Request, fingerprint string) Credential {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return Credential{
		ID:          "cred-" + fingerprint,
		RequestID:   r.ID,
		RequestCode: r.Code,
		Technician:  "alice",
		Fingerprint: fingerprint,
		Issued:      now,
		Expires:     now.Add(DefaultTTL),
		State:       CredentialIssued,
	}
}

func TestCredentials(t *testing.T) {
	s, _ := openTestStore(t)
	r1 := mustCreate(t, s, sampleRequest("Ada", ""))
	r2 := mustCreate(t, s, sampleRequest("Bob", ""))
	c1, c2, c3 := sampleCredential(r1, "SHA256:one"), sampleCredential(r1, "SHA256:two"), sampleCredential(r2, "SHA256:three")
	for _, c := range []Credential{c1, c2, c3} {
		if err := s.AddCredential(c); err != nil {
			t.Fatal(err)
		}
	}
	dup := c1
	dup.RequestID = r2.ID
	if err := s.AddCredential(dup); !errors.Is(err, ErrExists) {
		t.Errorf("AddCredential with a known fingerprint = %v, want ErrExists", err)
	}
	if got, err := s.CredentialsForRequest(r2.ID); err != nil || len(got) != 1 || got[0].Fingerprint != c3.Fingerprint {
		t.Errorf("a refused duplicate was indexed under another request: %+v, %v", got, err)
	}

	got, err := s.Credential("SHA256:two")
	if err != nil || got.ID != c2.ID || got.RequestID != r1.ID || !got.Expires.Equal(c2.Expires) {
		t.Errorf("Credential(two) = %+v, %v", got, err)
	}
	if _, err := s.Credential("SHA256:nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Credential(nope) = %v, want ErrNotFound", err)
	}

	list, err := s.CredentialsForRequest(r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	fps := map[string]bool{}
	for _, c := range list {
		fps[c.Fingerprint] = true
	}
	if len(list) != 2 || !fps["SHA256:one"] || !fps["SHA256:two"] {
		t.Errorf("CredentialsForRequest(r1) = %+v, want one and two", list)
	}
	if list, err := s.CredentialsForRequest("no-such-request"); err != nil || len(list) != 0 {
		t.Errorf("CredentialsForRequest(unknown) = %+v, %v", list, err)
	}
}

func TestUpdateCredentialKeepsBinding(t *testing.T) {
	s, _ := openTestStore(t)
	r := mustCreate(t, s, sampleRequest("Ada", ""))
	other := mustCreate(t, s, sampleRequest("Bob", ""))
	c := sampleCredential(r, "SHA256:one")
	if err := s.AddCredential(c); err != nil {
		t.Fatal(err)
	}
	used := time.Date(2026, 11, 24, 10, 5, 0, 0, time.UTC)
	got, err := s.UpdateCredential(c.Fingerprint, func(c *Credential) error {
		c.State, c.Used = CredentialActive, used
		// None of these may move the credential to another request, person or key.
		c.ID, c.Fingerprint, c.RequestID, c.RequestCode, c.Technician = "x", "SHA256:forged", other.ID, other.Code, "mallory"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != CredentialActive || !got.Used.Equal(used) {
		t.Errorf("update not applied: %+v", got)
	}
	stored, err := s.Credential(c.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ name, got, want string }{
		{"ID", stored.ID, c.ID},
		{"Fingerprint", stored.Fingerprint, c.Fingerprint},
		{"RequestID", stored.RequestID, c.RequestID},
		{"RequestCode", stored.RequestCode, c.RequestCode},
		{"Technician", stored.Technician, c.Technician},
		{"State", string(stored.State), string(CredentialActive)},
	} {
		if f.got != f.want {
			t.Errorf("stored %s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if _, err := s.Credential("SHA256:forged"); !errors.Is(err, ErrNotFound) {
		t.Errorf("forged fingerprint resolves: %v", err)
	}

	boom := errors.New("boom")
	if _, err := s.UpdateCredential(c.Fingerprint, func(c *Credential) error { c.State = CredentialRevoked; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateCredential with failing fn = %v", err)
	}
	if stored, _ := s.Credential(c.Fingerprint); stored.State != CredentialActive {
		t.Errorf("failed update changed state to %s", stored.State)
	}
	if _, err := s.UpdateCredential("SHA256:nope", func(*Credential) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateCredential(unknown) = %v, want ErrNotFound", err)
	}
}

func TestCredentialUsable(t *testing.T) {
	exp := time.Date(2026, 11, 24, 10, 15, 0, 0, time.UTC)
	for _, tc := range []struct {
		state CredentialState
		at    time.Time
		want  bool
	}{
		{CredentialIssued, exp.Add(-time.Minute), true},
		{CredentialIssued, exp, false},
		{CredentialIssued, exp.Add(time.Second), false},
		{CredentialActive, exp.Add(-time.Minute), false},
		{CredentialSpent, exp.Add(-time.Minute), false},
		{CredentialRevoked, exp.Add(-time.Minute), false},
	} {
		c := Credential{State: tc.state, Expires: exp}
		if got := c.Usable(tc.at); got != tc.want {
			t.Errorf("%s credential at expiry%+v: Usable = %v, want %v", tc.state, tc.at.Sub(exp), got, tc.want)
		}
	}
}

func TestSchemaVersion(t *testing.T) {
	s, path := openTestStore(t)
	s.Close()

	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var v uint64
	err = db.Update(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get(keySchemaVersion)
		if len(raw) != 8 {
			t.Fatalf("schema_version = %x, want 8 bytes", raw)
		}
		v = binary.BigEndian.Uint64(raw)
		for _, b := range [][]byte{bucketRequests, bucketCodes, bucketAgentKeys, bucketUsers, bucketCreds, bucketCredsByReq, bucketEvents} {
			if tx.Bucket(b) == nil {
				t.Errorf("bucket %s missing", b)
			}
		}
		// Pretend a newer build wrote the file.
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(schemaVersion()+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if v != schemaVersion() {
		t.Errorf("schema_version = %d, want %d", v, schemaVersion())
	}

	_, err = OpenBolt(path, BoltOptions{AuditKey: testAuditKey})
	if err == nil {
		t.Fatal("OpenBolt accepted a file from a newer schema")
	}
	for _, want := range []string{"newer than this build", "upgrade assistd", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestOpenBoltRefusesShortAuditKey(t *testing.T) {
	_, err := OpenBolt(filepath.Join(t.TempDir(), "x.db"), BoltOptions{AuditKey: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "audit key") {
		t.Fatalf("OpenBolt with a 5-byte audit key = %v, want an error about the audit key", err)
	}
}

func TestStoreFileIsPrivate(t *testing.T) {
	_, path := openTestStore(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("store file mode %v: readable by others", perm)
	}
}

// TestOpenBoltLocked checks the message a second assistd on the same data directory gets. bbolt
// holds an flock on the file; flock locks belong to open file descriptions, so a second open in
// this same process conflicts just as another process would. OpenBolt waits its 2 s timeout.
func TestOpenBoltLocked(t *testing.T) {
	_, path := openTestStore(t)
	s2, err := OpenBolt(path, BoltOptions{AuditKey: testAuditKey})
	if err == nil {
		s2.Close()
		t.Fatal("second OpenBolt on a locked file succeeded")
	}
	if !strings.Contains(err.Error(), "locked by another process") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not say the file %s is locked", err, path)
	}
}
