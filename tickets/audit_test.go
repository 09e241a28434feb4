package tickets

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// auditStore returns a closed store file holding n chained events, for a test to tamper with.
func auditStore(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "assist.db")
	s := openStoreAt(t, path, testAuditKey)
	for i := 1; i <= n; i++ {
		e, err := s.AppendEvent(Event{Kind: "test.event", Actor: "alice", Attrs: map[string]string{"n": fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i) {
			t.Fatalf("event %d got Seq %d", i, e.Seq)
		}
	}
	if err := s.VerifyEvents(); err != nil {
		t.Fatalf("untouched chain: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// tamper edits the closed store file directly, as someone with write access to the file (and
// without the audit key) could.
func tamper(t *testing.T, path string, fn func(events, meta *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		return fn(tx.Bucket(bucketEvents), tx.Bucket(bucketMeta))
	}); err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func readEvent(t *testing.T, events *bolt.Bucket, seq uint64) Event {
	t.Helper()
	var e Event
	if err := get(events, u64(seq), &e); err != nil {
		t.Fatalf("read event %d: %v", seq, err)
	}
	return e
}

// rewindHead makes meta/audit_head say the trail ends at seq, copying that event's hash, as an
// attacker who removed the later events would. Anything else the store keeps to authenticate the
// head is recomputed with key, which the attacker does not have.
func rewindHead(t *testing.T, events, meta *bolt.Bucket, seq uint64, key []byte) error {
	t.Helper()
	head := append(u64(seq), readEvent(t, events, seq).Hash...)
	if err := meta.Put(keyAuditHead, head); err != nil {
		return err
	}
	return meta.Put(keyAuditSeal, []byte(auditSeal(key, head)))
}

func TestAuditChainTampering(t *testing.T) {
	wrongKey := []byte("an attacker's guess at the key!!")
	for _, tc := range []struct {
		name    string
		tamper  func(t *testing.T, events, meta *bolt.Bucket) error
		wantSeq uint64
	}{
		{"edit an event's kind", func(t *testing.T, events, _ *bolt.Bucket) error {
			e := readEvent(t, events, 3)
			e.Kind = "nothing.happened"
			return put(events, u64(3), e)
		}, 3},
		{"edit an event's attrs in raw JSON", func(t *testing.T, events, _ *bolt.Bucket) error {
			raw := append([]byte(nil), events.Get(u64(2))...)
			edited := strings.Replace(string(raw), `"n":"2"`, `"n":"20"`, 1)
			if edited == string(raw) {
				t.Fatalf("attrs not found in %s", raw)
			}
			return events.Put(u64(2), []byte(edited))
		}, 2},
		{"edit an event and recompute its hash with a wrong key", func(t *testing.T, events, _ *bolt.Bucket) error {
			e := readEvent(t, events, 4)
			e.Actor = "mallory"
			e.Hash = chainHash(wrongKey, e)
			return put(events, u64(4), e)
		}, 4},
		{"garble an event", func(t *testing.T, events, _ *bolt.Bucket) error {
			return events.Put(u64(3), []byte{encodingVersion, '{'})
		}, 3},
		{"delete an event in the middle", func(t *testing.T, events, _ *bolt.Bucket) error {
			return events.Delete(u64(3))
		}, 3},
		{"delete an event in the middle and renumber the rest", func(t *testing.T, events, _ *bolt.Bucket) error {
			for seq := uint64(4); seq <= 5; seq++ {
				e := readEvent(t, events, seq)
				e.Seq--
				if err := put(events, u64(seq-1), e); err != nil {
					return err
				}
			}
			return events.Delete(u64(5))
		}, 3},
		{"delete the first event", func(t *testing.T, events, _ *bolt.Bucket) error {
			return events.Delete(u64(1))
		}, 1},
		{"delete the last event", func(t *testing.T, events, _ *bolt.Bucket) error {
			return events.Delete(u64(5))
		}, 5},
		{"delete the last two events", func(t *testing.T, events, _ *bolt.Bucket) error {
			events.Delete(u64(5))
			return events.Delete(u64(4))
		}, 4},
		{"delete the last two events and rewind the head with a wrong key", func(t *testing.T, events, meta *bolt.Bucket) error {
			events.Delete(u64(5))
			events.Delete(u64(4))
			return rewindHead(t, events, meta, 3, wrongKey)
		}, 4},
		{"delete the last event and rewind the head, leaving the seal", func(t *testing.T, events, meta *bolt.Bucket) error {
			events.Delete(u64(5))
			return meta.Put(keyAuditHead, append(u64(4), readEvent(t, events, 4).Hash...))
		}, 5},
		{"delete the last event, rewind the head and remove the seal", func(t *testing.T, events, meta *bolt.Bucket) error {
			events.Delete(u64(5))
			meta.Delete(keyAuditSeal)
			return meta.Put(keyAuditHead, append(u64(4), readEvent(t, events, 4).Hash...))
		}, 5},
		{"delete every event and the head", func(t *testing.T, events, meta *bolt.Bucket) error {
			for seq := uint64(1); seq <= 5; seq++ {
				events.Delete(u64(seq))
			}
			return meta.Delete(keyAuditHead)
		}, 1},
		{"append a forged event", func(t *testing.T, events, meta *bolt.Bucket) error {
			last := readEvent(t, events, 5)
			e := Event{Seq: 6, Time: last.Time, Kind: "auth.accepted", Actor: "mallory", Prev: last.Hash}
			e.Hash = chainHash(wrongKey, e)
			if err := put(events, u64(6), e); err != nil {
				return err
			}
			return rewindHead(t, events, meta, 6, wrongKey)
		}, 6},
		{"swap two events", func(t *testing.T, events, _ *bolt.Bucket) error {
			a, b := append([]byte(nil), events.Get(u64(2))...), append([]byte(nil), events.Get(u64(3))...)
			events.Put(u64(2), b)
			return events.Put(u64(3), a)
		}, 2},
		{"swap two events and their sequence numbers", func(t *testing.T, events, _ *bolt.Bucket) error {
			a, b := readEvent(t, events, 2), readEvent(t, events, 3)
			a.Seq, b.Seq = 3, 2
			put(events, u64(2), b)
			return put(events, u64(3), a)
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := auditStore(t, 5)
			tamper(t, path, func(events, meta *bolt.Bucket) error { return tc.tamper(t, events, meta) })
			s := openStoreAt(t, path, testAuditKey)
			err := s.VerifyEvents()
			var te *TamperError
			if !errors.As(err, &te) {
				t.Fatalf("VerifyEvents = %v, want a *TamperError", err)
			}
			if te.Seq != tc.wantSeq {
				t.Errorf("TamperError at event %d (%v), want event %d", te.Seq, err, tc.wantSeq)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("event %d", tc.wantSeq)) {
				t.Errorf("message %q does not name event %d", err, tc.wantSeq)
			}
		})
	}
}

// TestAuditTamperHelpersAreSound shows that the rewrites above fail because of the key and the
// chain, not because the test's own rewriting is clumsy: done with the right key, they verify.
func TestAuditTamperHelpersAreSound(t *testing.T) {
	path := auditStore(t, 5)
	tamper(t, path, func(events, meta *bolt.Bucket) error {
		e := readEvent(t, events, 3)
		e.Actor = "rewritten"
		e.Hash = chainHash(testAuditKey, e)
		if err := put(events, u64(3), e); err != nil {
			return err
		}
		events.Delete(u64(5))
		events.Delete(u64(4))
		return rewindHead(t, events, meta, 3, testAuditKey)
	})
	s := openStoreAt(t, path, testAuditKey)
	if err := s.VerifyEvents(); err != nil {
		t.Fatalf("a rewrite made with the audit key should verify, got %v", err)
	}
	if e, err := s.AppendEvent(Event{Kind: "after"}); err != nil || e.Seq != 4 {
		t.Fatalf("append after a keyed rewind = seq %d, %v", e.Seq, err)
	}
	if err := s.VerifyEvents(); err != nil {
		t.Fatalf("verify after append: %v", err)
	}
}

func TestAuditWrongKey(t *testing.T) {
	path := auditStore(t, 3)
	s := openStoreAt(t, path, []byte("a different key of 32 bytes ...."))
	var te *TamperError
	if err := s.VerifyEvents(); !errors.As(err, &te) || te.Seq != 1 {
		t.Fatalf("VerifyEvents with another key = %v, want a *TamperError at event 1", err)
	}
}

func TestAuditEmptyChainVerifies(t *testing.T) {
	s, _ := openTestStore(t)
	if err := s.VerifyEvents(); err != nil {
		t.Fatalf("empty trail: %v", err)
	}
}

// TestAuditHeadLayout pins meta/audit_head's layout (big-endian seq ‖ hash of the last event),
// which AppendEvent and VerifyEvents both read.
func TestAuditHeadLayout(t *testing.T) {
	path := auditStore(t, 2)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		head := tx.Bucket(bucketMeta).Get(keyAuditHead)
		var last Event
		raw := tx.Bucket(bucketEvents).Get(u64(2))
		if err := json.Unmarshal(raw[1:], &last); err != nil {
			t.Fatal(err)
		}
		if len(head) < 8 || binary.BigEndian.Uint64(head[:8]) != 2 || string(head[8:]) != last.Hash {
			t.Errorf("audit_head = %q, want seq 2 and event 2's hash %s", head, last.Hash)
		}
		return nil
	})
}
