package tickets

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltOptions configure OpenBolt.
type BoltOptions struct {
	// AuditKey keys the audit chain's hashes. Keep it outside the database file (assistd keeps it
	// in its data directory), so whoever can edit the file cannot also forge the chain.
	AuditKey []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Bolt is the Store kept in one bbolt file.
type Bolt struct {
	db  *bolt.DB
	key []byte
	now func() time.Time
}

var _ Store = (*Bolt)(nil)

// encodingVersion prefixes every stored value, so a later build can read older records.
const encodingVersion = 1

// OpenBolt opens (creating if needed) the store at path and brings its schema up to date.
func OpenBolt(path string, o BoltOptions) (*Bolt, error) {
	if len(o.AuditKey) < 16 {
		return nil, errors.New("open store: audit key must be at least 16 bytes")
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: locked by another process (is assistd already running?)", path)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Bolt{db: db, key: slices.Clone(o.AuditKey), now: now}, nil
}

func (s *Bolt) Close() error { return s.db.Close() }

func put(b *bolt.Bucket, key []byte, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, append([]byte{encodingVersion}, body...))
}

// get decodes a stored value; bbolt's bytes are only valid inside the transaction, and
// json.Unmarshal copies what it keeps.
func get(b *bolt.Bucket, key []byte, v any) error {
	raw := b.Get(key)
	if raw == nil {
		return ErrNotFound
	}
	return decode(raw, v)
}

func decode(raw []byte, v any) error {
	if len(raw) == 0 || raw[0] != encodingVersion {
		return fmt.Errorf("stored value has unknown encoding version")
	}
	return json.Unmarshal(raw[1:], v)
}

// ---- requests

func (s *Bolt) CreateRequest(r Request) (Request, error) {
	now := s.now().UTC()
	r.ID = newID(now)
	r.Created, r.Updated = now, now
	r.State = StateWaiting
	err := s.db.Update(func(tx *bolt.Tx) error {
		codes := tx.Bucket(bucketCodes)
		for {
			r.Code = newCode()
			if codes.Get([]byte(r.Code)) == nil {
				break
			}
		}
		if r.AgentKey != "" {
			if err := tx.Bucket(bucketAgentKeys).Put([]byte(r.AgentKey), []byte(r.ID)); err != nil {
				return err
			}
		}
		if err := codes.Put([]byte(r.Code), []byte(r.ID)); err != nil {
			return err
		}
		return put(tx.Bucket(bucketRequests), []byte(r.ID), r)
	})
	if err != nil {
		return Request{}, fmt.Errorf("store request: %w", err)
	}
	return r, nil
}

// requestID resolves a code or ID inside a transaction.
func requestID(tx *bolt.Tx, codeOrID string) ([]byte, error) {
	if code, err := NormalizeCode(codeOrID); err == nil {
		if id := tx.Bucket(bucketCodes).Get([]byte(code)); id != nil {
			return id, nil
		}
		return nil, fmt.Errorf("request %s: %w", code, ErrNotFound)
	}
	if tx.Bucket(bucketRequests).Get([]byte(codeOrID)) != nil {
		return []byte(codeOrID), nil
	}
	return nil, fmt.Errorf("request %q: %w", truncate(codeOrID, 40), ErrNotFound)
}

func (s *Bolt) Request(codeOrID string) (Request, error) {
	var r Request
	err := s.db.View(func(tx *bolt.Tx) error {
		id, err := requestID(tx, codeOrID)
		if err != nil {
			return err
		}
		return get(tx.Bucket(bucketRequests), id, &r)
	})
	return r, err
}

func (s *Bolt) OpenRequestByAgent(fingerprint string) (Request, error) {
	var r Request
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketAgentKeys).Get([]byte(fingerprint))
		if id == nil {
			return fmt.Errorf("open request for agent key %s: %w", fingerprint, ErrNotFound)
		}
		return get(tx.Bucket(bucketRequests), id, &r)
	})
	return r, err
}

func (s *Bolt) Requests(all bool) ([]Request, error) {
	var out []Request
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRequests).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r Request
			if err := decode(v, &r); err != nil {
				return fmt.Errorf("request %s: %w", k, err)
			}
			if all || r.Open() {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

func (s *Bolt) UpdateRequest(codeOrID string, fn func(*Request) error) (Request, error) {
	var r Request
	err := s.db.Update(func(tx *bolt.Tx) error {
		id, err := requestID(tx, codeOrID)
		if err != nil {
			return err
		}
		reqs := tx.Bucket(bucketRequests)
		if err := get(reqs, id, &r); err != nil {
			return err
		}
		before := r
		if err := fn(&r); err != nil {
			return err
		}
		r.ID, r.Code, r.Created = before.ID, before.Code, before.Created
		r.Updated = s.now().UTC()
		if err := s.rebindAgentKey(tx, before, r); err != nil {
			return err
		}
		return put(reqs, id, r)
	})
	return r, err
}

// rebindAgentKey keeps the agent_keys index pointing at open requests only.
func (s *Bolt) rebindAgentKey(tx *bolt.Tx, before, after Request) error {
	keys := tx.Bucket(bucketAgentKeys)
	if before.AgentKey != "" && bytes.Equal(keys.Get([]byte(before.AgentKey)), []byte(before.ID)) {
		if err := keys.Delete([]byte(before.AgentKey)); err != nil {
			return err
		}
	}
	if after.AgentKey != "" && after.Open() {
		return keys.Put([]byte(after.AgentKey), []byte(after.ID))
	}
	return nil
}

// ---- users

func (s *Bolt) AddUser(u User) error {
	if u.Created.IsZero() {
		u.Created = s.now().UTC()
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		if users.Get([]byte(u.Name)) != nil {
			return fmt.Errorf("user %s: %w", u.Name, ErrExists)
		}
		return put(users, []byte(u.Name), u)
	})
}

func (s *Bolt) User(name string) (User, error) {
	var u User
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := get(tx.Bucket(bucketUsers), []byte(name), &u); err != nil {
			return fmt.Errorf("user %s: %w", truncate(name, 40), err)
		}
		return nil
	})
	return u, err
}

func (s *Bolt) Users() ([]User, error) {
	var out []User
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := decode(v, &u); err != nil {
				return fmt.Errorf("user %s: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

func (s *Bolt) UpdateUser(name string, fn func(*User) error) (User, error) {
	var u User
	err := s.db.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		if err := get(users, []byte(name), &u); err != nil {
			return fmt.Errorf("user %s: %w", name, err)
		}
		if err := fn(&u); err != nil {
			return err
		}
		u.Name = name
		return put(users, []byte(name), u)
	})
	return u, err
}

func (s *Bolt) RemoveUser(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		if users.Get([]byte(name)) == nil {
			return fmt.Errorf("user %s: %w", name, ErrNotFound)
		}
		return users.Delete([]byte(name))
	})
}

// ---- credentials

func (s *Bolt) AddCredential(c Credential) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		creds := tx.Bucket(bucketCreds)
		if creds.Get([]byte(c.Fingerprint)) != nil {
			return fmt.Errorf("credential %s: %w", c.Fingerprint, ErrExists)
		}
		if err := tx.Bucket(bucketCredsByReq).Put([]byte(c.RequestID+"/"+c.Fingerprint), nil); err != nil {
			return err
		}
		return put(creds, []byte(c.Fingerprint), c)
	})
}

func (s *Bolt) Credential(fingerprint string) (Credential, error) {
	var c Credential
	err := s.db.View(func(tx *bolt.Tx) error {
		return get(tx.Bucket(bucketCreds), []byte(fingerprint), &c)
	})
	return c, err
}

func (s *Bolt) CredentialsForRequest(requestID string) ([]Credential, error) {
	var out []Credential
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(requestID + "/")
		c := tx.Bucket(bucketCredsByReq).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var cred Credential
			if err := get(tx.Bucket(bucketCreds), k[len(prefix):], &cred); err != nil {
				return fmt.Errorf("credential %s: %w", k[len(prefix):], err)
			}
			out = append(out, cred)
		}
		return nil
	})
	return out, err
}

func (s *Bolt) UpdateCredential(fingerprint string, fn func(*Credential) error) (Credential, error) {
	var c Credential
	err := s.db.Update(func(tx *bolt.Tx) error {
		creds := tx.Bucket(bucketCreds)
		if err := get(creds, []byte(fingerprint), &c); err != nil {
			return err
		}
		before := c
		if err := fn(&c); err != nil {
			return err
		}
		c.ID, c.Fingerprint, c.RequestID, c.RequestCode, c.Technician = before.ID, before.Fingerprint, before.RequestID, before.RequestCode, before.Technician
		return put(creds, []byte(fingerprint), c)
	})
	return c, err
}

// ---- audit events

func (s *Bolt) AppendEvent(e Event) (Event, error) {
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var prevSeq uint64
		e.Prev = ""
		if head := meta.Get(keyAuditHead); len(head) > 8 {
			prevSeq = binary.BigEndian.Uint64(head[:8])
			e.Prev = string(head[8:])
		}
		e.Seq = prevSeq + 1
		e.Hash = chainHash(s.key, e)
		if err := put(tx.Bucket(bucketEvents), u64(e.Seq), e); err != nil {
			return err
		}
		head := append(u64(e.Seq), e.Hash...)
		if err := meta.Put(keyAuditHead, head); err != nil {
			return err
		}
		return meta.Put(keyAuditSeal, []byte(auditSeal(s.key, head)))
	})
	if err != nil {
		return Event{}, fmt.Errorf("append audit event: %w", err)
	}
	return e, nil
}

func (s *Bolt) Events(f EventFilter) ([]Event, error) {
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
			var e Event
			if err := decode(v, &e); err != nil {
				return fmt.Errorf("audit event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if f.Match(e) {
				out = append(out, e)
			}
			return nil
		})
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, err
}

func (s *Bolt) VerifyEvents() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var prev string
		var seq uint64
		err := tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
			seq++
			var e Event
			if err := decode(v, &e); err != nil {
				return &TamperError{seq, "cannot be decoded: " + err.Error()}
			}
			switch got := binary.BigEndian.Uint64(k); {
			case got != seq:
				return &TamperError{seq, fmt.Sprintf("missing (next stored event is %d)", got)}
			case e.Seq != seq:
				return &TamperError{seq, fmt.Sprintf("records sequence number %d", e.Seq)}
			case e.Prev != prev:
				return &TamperError{seq, "does not follow the event before it (an event was removed or replaced)"}
			case !hmacEqual(e.Hash, chainHash(s.key, e)):
				return &TamperError{seq, "content was edited (hash mismatch)"}
			}
			prev = e.Hash
			return nil
		})
		if err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		head, seal := meta.Get(keyAuditHead), meta.Get(keyAuditSeal)
		var headSeq uint64
		var headHash string
		if len(head) > 8 {
			headSeq, headHash = binary.BigEndian.Uint64(head[:8]), string(head[8:])
		}
		if headSeq != seq || headHash != prev {
			return &TamperError{seq + 1, fmt.Sprintf("the trail ends at event %d but the store recorded %d events (events were removed from the end)", seq, headSeq)}
		}
		// An empty trail has neither; anything else needs the seal that only the key can make.
		if (head != nil || seal != nil) && !hmacEqual(string(seal), auditSeal(s.key, head)) {
			return &TamperError{seq + 1, fmt.Sprintf("the record of where the trail ends (event %d) was rewritten without the audit key (events after it were removed)", seq)}
		}
		return nil
	})
}

func hmacEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }
