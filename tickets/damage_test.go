package tickets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fillStore makes a store at path holding n requests, so that the requests bucket spans pages.
func fillStore(t *testing.T, n int) (string, []Request) {
	t.Helper()
	s, path := openTestStore(t)
	var made []Request
	for i := range n {
		made = append(made, mustCreate(t, s, sampleRequest(fmt.Sprintf("person %d", i), "")))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, made
}

// requestsRootPage returns the offset of the requests bucket's root page in the file.
func requestsRootPage(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var off int64
	db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRequests).RootPage()
		if root == 0 {
			t.Fatal("requests bucket is inline; add more requests")
		}
		off = int64(root) * int64(db.Info().PageSize)
		return nil
	})
	return off
}

// requestsBucketValue returns the offset in the file of the requests bucket's value (its root
// page id, then its sequence) and the root page id.
func requestsBucketValue(t *testing.T, path string) (int64, uint64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := readMeta(bytes.NewReader(data))
	root := uint64(requestsRootPage(t, path)) / m.pageSize
	i := bytes.Index(data, append([]byte(bucketRequests), binary.NativeEndian.AppendUint64(nil, root)...))
	if i < 0 {
		t.Fatal("the requests bucket's value is not in the file")
	}
	return int64(i + len(bucketRequests)), root
}

func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func garbage(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestOpenRefusesDamagedFiles is the corruption table: each damaged file is refused with an
// error that names the file and what is wrong with it — no panic, and never a new empty store
// in its place.
func TestOpenRefusesDamagedFiles(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
	}{
		{"zero length", func(t *testing.T, path string) { os.Truncate(path, 0) }, "empty (0 bytes)"},
		{"truncated", func(t *testing.T, path string) {
			st, _ := os.Stat(path)
			os.Truncate(path, st.Size()/2)
		}, "truncated"},
		{"header overwritten", func(t *testing.T, path string) { overwrite(t, path, 0, garbage(8192)) }, "not a bbolt database"},
		{"damaged page", func(t *testing.T, path string) {
			overwrite(t, path, requestsRootPage(t, path), garbage(4096))
		}, "damaged"},
		{"a bucket's root page past the file", func(t *testing.T, path string) {
			// Where bbolt's page check, in a goroutine of its own, would fault.
			off, root := requestsBucketValue(t, path)
			overwrite(t, path, off, binary.NativeEndian.AppendUint64(nil, root+1<<32))
		}, "outside the"},
		{"a branch page that refers to itself", func(t *testing.T, path string) {
			// bbolt's page check would recurse until the stack runs out.
			root := requestsRootPage(t, path)
			page := make([]byte, 24)
			f, _ := os.Open(path)
			f.ReadAt(page, root)
			f.Close()
			if flags := binary.NativeEndian.Uint16(page[8:]); flags != 0x01 {
				t.Fatalf("the requests root page has flags %#x, not a branch; add more requests", flags)
			}
			overwrite(t, path, root+16+8, page[:8]) // its first child: its own id
		}, "reached twice"},
		{"another program's bbolt file", func(t *testing.T, path string) {
			os.Remove(path)
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
			db.Close()
		}, "not an assist store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := fillStore(t, 300)
			tt.damage(t, path)
			before, _ := os.ReadFile(path)
			for _, o := range []BoltOptions{{AuditKey: testAuditKey}, {AuditKey: testAuditKey, MustExist: true}, {AuditKey: testAuditKey, ReadOnly: true}} {
				s, err := OpenBolt(path, o)
				if err == nil {
					s.Close()
					t.Fatalf("OpenBolt(%+v) opened a damaged file", o)
				}
				var de *DamagedError
				var se *SchemaError
				if !errors.As(err, &de) && !errors.As(err, &se) {
					t.Errorf("error %v (%T) is neither a DamagedError nor a SchemaError", err, err)
				}
				if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file and say %q", err, tt.want)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the refused file was changed")
			}
		})
	}
}

// TestDamagedPageWhileRunning damages a page under an open store, as a failing disk would: the
// next reads and writes return a DamagedError naming the file instead of panicking.
func TestDamagedPageWhileRunning(t *testing.T) {
	path, made := fillStore(t, 300)
	root := requestsRootPage(t, path)
	s := openStoreAt(t, path, testAuditKey)
	overwrite(t, path, root, garbage(4096))
	calls := map[string]func() error{
		"Requests": func() error { _, err := s.Requests(RequestQuery{Closed: true}); return err },
		"Request":  func() error { _, err := s.Request(made[7].Code); return err },
		"CreateRequest": func() error {
			_, err := s.CreateRequest(sampleRequest("late", ""))
			return err
		},
		"Check": func() error {
			rep, err := s.Check()
			if err == nil && rep.OK() {
				return errors.New("check found nothing")
			}
			return &DamagedError{path, "reported"}
		},
	}
	for name, call := range calls {
		err := call()
		var de *DamagedError
		if !errors.As(err, &de) || de.Path != path {
			t.Errorf("%s on a damaged page: %v, want a DamagedError naming %s", name, err, path)
		}
	}
}

// TestDamagedRecordIsSkipped puts one undecodable record among good ones: lists leave it out and
// name its key, one-record reads of others work, and Check names it.
func TestDamagedRecordIsSkipped(t *testing.T) {
	path, made := fillStore(t, 5)
	bad := made[2]
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRequests).Put([]byte(bad.ID), []byte("\x01{not json")) })
	db.Close()

	s := openStoreAt(t, path, testAuditKey)
	page, err := s.Requests(RequestQuery{})
	if err != nil {
		t.Fatalf("Requests with one damaged record: %v", err)
	}
	if len(page.Requests) != 4 {
		t.Errorf("listed %d requests, want the 4 good ones", len(page.Requests))
	}
	if len(page.Skipped) != 1 || page.Skipped[0].Key != "requests/"+bad.ID {
		t.Errorf("skipped %v, want requests/%s", page.Skipped, bad.ID)
	}
	if _, err := s.Request(made[1].Code); err != nil {
		t.Errorf("a good request next to the damaged one: %v", err)
	}
	if _, err := s.Request(bad.Code); err == nil || !strings.Contains(err.Error(), bad.ID) {
		t.Errorf("reading the damaged request: %v, want an error naming %s", err, bad.ID)
	}
	rep, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Where != "requests/"+bad.ID {
		t.Errorf("check found %v, want one problem at requests/%s", rep.Problems, bad.ID)
	}
}

// FuzzOpenBolt opens arbitrary files as stores: each is opened or refused with an error, never a
// panic. Seeded with a real store's first pages, damaged ones and a short header.
func FuzzOpenBolt(f *testing.F) {
	path := f.TempDir() + "/seed.db"
	s, err := OpenBolt(path, BoltOptions{AuditKey: testAuditKey})
	if err != nil {
		f.Fatal(err)
	}
	s.CreateRequest(sampleRequest("seed", "SHA256:seed"))
	s.AppendEvent(Event{Kind: "request.filed"})
	s.Close()
	real, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add(real[:4096])
	f.Add(append(bytes.Clone(real[:8192]), garbage(4096)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSize("f.db", bytes.NewReader(data), int64(len(data)))
		p := t.TempDir() + "/f.db"
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := OpenBolt(p, BoltOptions{AuditKey: testAuditKey, ReadOnly: true, LockTimeout: time.Second}); err == nil {
			s.Check()
			s.Close()
		}
	})
}

// TestDamagedUserAndEventAreSkipped: the account and audit lists show the good records and name
// the bad ones in a SkippedError; the audit chain calls the bad event tampering.
func TestDamagedUserAndEventAreSkipped(t *testing.T) {
	s, path := openTestStore(t)
	for _, name := range []string{"alice", "bob", "carol"} {
		if err := s.AddUser(User{Name: name}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendEvent(Event{Kind: "user.added", Actor: name}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		tx.Bucket(bucketUsers).Put([]byte("bob"), []byte("\x01{"))
		return tx.Bucket(bucketEvents).Put(u64(2), []byte("\x09"))
	})
	db.Close()
	s = openStoreAt(t, path, testAuditKey)

	users, err := s.Users()
	var sk *SkippedError
	if !errors.As(err, &sk) || len(users) != 2 || sk.Records[0].Key != "users/bob" {
		t.Errorf("Users: %d users, %v; want alice and carol and users/bob skipped", len(users), err)
	}
	events, err := s.Events(EventFilter{})
	if !errors.As(err, &sk) || len(events) != 2 || sk.Records[0].Key != "events/2" {
		t.Errorf("Events: %d events, %v; want 2 and events/2 skipped", len(events), err)
	}
	var te *TamperError
	if err := s.VerifyEvents(); !errors.As(err, &te) || te.Seq != 2 {
		t.Errorf("VerifyEvents: %v, want tampering at event 2", err)
	}
}
