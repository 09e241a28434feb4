package tickets

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestMigrationFromSchema1 writes a file as schema version 1 wrote it (no open-requests index)
// and opens it with this build: the index is made from the records, and lists and check agree.
func TestMigrationFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketMeta); return err }); err != nil {
		t.Fatal(err)
	}
	if err := migrateFrom(db, 0, 1); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	want := map[string]bool{} // code → open
	err = db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOpenRequests) != nil {
			t.Fatal("schema 1 has no open_requests bucket")
		}
		for i := range 6 {
			r := sampleRequest(fmt.Sprintf("v1 person %d", i), fmt.Sprintf("SHA256:agent-%d", i))
			r.ID, r.Code, r.State, r.Created = newID(now.Add(time.Duration(i)*time.Minute)), newCode(), StateWaiting, now
			if i%2 == 1 {
				r.State = StateClosed
			} else {
				tx.Bucket(bucketAgentKeys).Put([]byte(r.AgentKey), []byte(r.ID))
			}
			want[r.Code] = r.Open()
			tx.Bucket(bucketCodes).Put([]byte(r.Code), []byte(r.ID))
			if err := put(tx.Bucket(bucketRequests), []byte(r.ID), r); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s := openStoreAt(t, path, testAuditKey)
	open, err := s.Requests(RequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range open.Requests {
		if !want[r.Code] {
			t.Errorf("closed request %s listed as open after migration", r.Code)
		}
	}
	if len(open.Requests) != 3 {
		t.Errorf("%d open requests after migration, want 3", len(open.Requests))
	}
	rep, err := s.Check()
	if err != nil || !rep.OK() || rep.Schema != schemaVersion() || rep.Open != 3 {
		t.Errorf("check after migration: %+v, %v", rep, err)
	}
}

// BenchmarkRequestsOpen lists the open requests of a store holding 100k closed ones and 1k open:
// the cost follows what is listed, not what is stored.
func BenchmarkRequestsOpen(b *testing.B) {
	s, err := OpenBolt(filepath.Join(b.TempDir(), "big.db"), BoltOptions{AuditKey: testAuditKey})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	s.db.Update(func(tx *bolt.Tx) error {
		for i := range 101_000 {
			r := sampleRequest(fmt.Sprint("person ", i), "")
			r.ID, r.Code, r.State = newID(now.Add(time.Duration(i))), newCode(), StateClosed
			if i%101 == 0 {
				r.State = StateWaiting
			}
			put(tx.Bucket(bucketRequests), []byte(r.ID), r)
			tx.Bucket(bucketCodes).Put([]byte(r.Code), []byte(r.ID))
			reindex(tx, Request{}, r)
		}
		return nil
	})
	b.ResetTimer()
	for b.Loop() {
		p, err := s.Requests(RequestQuery{})
		if err != nil || len(p.Requests) != 1000 {
			b.Fatalf("%d open, %v", len(p.Requests), err)
		}
	}
}
