package tickets

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
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
	// MustExist refuses to make a new file: assistd serve and check open a store that init made.
	MustExist bool
	// ReadOnly opens the file for reading beside other readers (assistd check on a stopped
	// gateway); the schema is checked, not migrated.
	ReadOnly bool
	// LockTimeout is how long to wait for another process's lock on the file; zero means 2s.
	LockTimeout time.Duration
	// NoSync skips the fsync of every write, for loading a store in bulk (the scale benchmark
	// seeds 100k requests with it); Close still syncs. A crash loses what NoSync wrote: never
	// for a serving gateway.
	NoSync bool
}

// Bolt is the Store kept in one bbolt file.
type Bolt struct {
	db      *bolt.DB
	commits *commitQueue
	open    openCache // decoded open requests, for lists
	path    string
	key     []byte
	now     func() time.Time

	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*Bolt)(nil)

// encodingVersion prefixes every stored value, so a later build can read older records.
const encodingVersion = 1

// OpenBolt opens (creating if needed, unless o.MustExist) the store at path and brings its
// schema up to date. An existing file is never replaced: one that is empty, truncated, not a
// bbolt file, damaged or of an unknown schema is refused with a *DamagedError.
func OpenBolt(path string, o BoltOptions) (*Bolt, error) {
	if len(o.AuditKey) < 16 {
		return nil, errors.New("open store: audit key must be at least 16 bytes")
	}
	existed, err := checkBeforeOpen(path, o.MustExist || o.ReadOnly)
	if err != nil {
		return nil, err
	}
	timeout := o.LockTimeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	db, err := openBolt(path, &bolt.Options{Timeout: timeout, ReadOnly: o.ReadOnly})
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	db.NoSync = o.NoSync
	s := &Bolt{db: db, path: path, key: slices.Clone(o.AuditKey), now: now}
	if err := s.ready(existed, o.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	s.commits = newCommitQueue(db, path)
	return s, nil
}

// ready checks an opened file before anything reads it and migrates its schema.
func (s *Bolt) ready(existed, readOnly bool) (err error) {
	defer s.guard(&err)()
	if existed {
		if err := checkPages(s.path, s.db); err != nil {
			return err
		}
	}
	if readOnly {
		return s.view(func(tx *bolt.Tx) error { _, err := readSchema(tx, s.path); return err })
	}
	if err := migrate(s.db, s.path, existed); err != nil {
		var de *DamagedError
		if errors.As(err, &de) {
			return err
		}
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	return nil
}

// Close waits for the writes in flight and closes the file; closing twice is harmless. A store
// opened with NoSync is synced first.
func (s *Bolt) Close() error {
	s.closeOnce.Do(func() {
		s.commits.close()
		if s.db.NoSync && !s.db.IsReadOnly() {
			if err := s.db.Sync(); err != nil {
				s.db.Close()
				s.closeErr = fmt.Errorf("sync store: %w", err)
				return
			}
		}
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func put(b *bolt.Bucket, key []byte, v any) error {
	raw, err := encodeValue(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func encodeValue(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte{encodingVersion}, body...), nil
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
	err := s.update(func(tx *bolt.Tx) error { return createRequest(tx, &r) })
	if err != nil {
		return Request{}, fmt.Errorf("store request: %w", err)
	}
	return r, nil
}

// createRequest stores the new request r, giving it a code no other request has.
func createRequest(tx *bolt.Tx, r *Request) error {
	codes := tx.Bucket(bucketCodes)
	for {
		r.Code = newCode()
		if codes.Get([]byte(r.Code)) == nil {
			break
		}
	}
	if err := reindex(tx, Request{}, *r); err != nil {
		return err
	}
	if err := codes.Put([]byte(r.Code), []byte(r.ID)); err != nil {
		return err
	}
	return put(tx.Bucket(bucketRequests), []byte(r.ID), *r)
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
	err := s.view(func(tx *bolt.Tx) error {
		id, err := requestID(tx, codeOrID)
		if err != nil {
			return err
		}
		r, err = getRequest(tx, id)
		return err
	})
	return r, err
}

func (s *Bolt) OpenRequestByAgent(fingerprint string) (Request, error) {
	var r Request
	err := s.view(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketAgentKeys).Get([]byte(fingerprint))
		if id == nil {
			return fmt.Errorf("open request for agent key %s: %w", fingerprint, ErrNotFound)
		}
		return get(tx.Bucket(bucketRequests), id, &r)
	})
	return r, err
}

// Requests reads open requests from their own index, so the list costs what it shows however
// many closed ones are stored; with q.Closed it walks every request, newest first, from After or
// Since, a page at a time.
func (s *Bolt) Requests(q RequestQuery) (RequestPage, error) {
	var page RequestPage
	err := s.view(func(tx *bolt.Tx) error {
		reqs := tx.Bucket(bucketRequests)
		rc := reqs.Cursor() // one for every lookup: Bucket.Get makes (and allocates) one each
		c, load := tx.Bucket(bucketOpenRequests).Cursor(), func(k, _ []byte) []byte {
			if rk, v := rc.Seek(k); bytes.Equal(rk, k) {
				return v
			}
			return nil
		}
		if q.Closed {
			c, load = reqs.Cursor(), func(_, v []byte) []byte { return v }
		}
		k, v := c.Last()
		if q.After != "" {
			if k, v = c.Seek([]byte(q.After)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		since := ""
		if !q.Since.IsZero() {
			since = idPrefix(q.Since)
		}
		decodeOne := func(_, raw []byte) (r Request, err error) { return r, decode(raw, &r) }
		if !q.Closed {
			d := s.open.decoder(q.After == "" && since == "" && q.Limit == 0)
			defer d.done()
			decodeOne = d.decode
			if n := d.size(); n > 0 {
				if q.Limit > 0 {
					n = min(n, q.Limit)
				}
				page.Requests = make([]Request, 0, n) // not grown a copy at a time
			}
		}
		for ; k != nil && string(k) >= since; k, v = c.Prev() {
			if q.Limit > 0 && len(page.Requests) == q.Limit {
				page.Next = page.Requests[len(page.Requests)-1].ID
				break
			}
			r, err := decodeOne(k, load(k, v))
			if err != nil {
				page.Skipped = append(page.Skipped, SkippedRecord{recordKey(bucketRequests, k), err.Error()})
				continue
			}
			page.Requests = append(page.Requests, r)
		}
		return nil
	})
	return page, err
}

func (s *Bolt) UpdateRequest(codeOrID string, fn func(*Request) error) (Request, error) {
	var r Request
	err := s.update(func(tx *bolt.Tx) error {
		r = Request{} // afresh: the transaction may run twice
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
		if err := reindex(tx, before, r); err != nil {
			return err
		}
		return put(reqs, id, r)
	})
	return r, err
}

// reindex keeps a request's indexes true after it changed from before to after (before is the
// zero Request for a new one): agent_keys and open_requests name open requests only.
func reindex(tx *bolt.Tx, before, after Request) error {
	keys, open := tx.Bucket(bucketAgentKeys), tx.Bucket(bucketOpenRequests)
	if before.AgentKey != "" && bytes.Equal(keys.Get([]byte(before.AgentKey)), []byte(before.ID)) {
		if err := keys.Delete([]byte(before.AgentKey)); err != nil {
			return err
		}
	}
	if !after.Open() {
		return open.Delete([]byte(after.ID))
	}
	if after.AgentKey != "" {
		if err := keys.Put([]byte(after.AgentKey), []byte(after.ID)); err != nil {
			return err
		}
	}
	return open.Put([]byte(after.ID), nil)
}

// ---- users

func (s *Bolt) AddUser(u User) error {
	if u.Created.IsZero() {
		u.Created = s.now().UTC()
	}
	return s.update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		if users.Get([]byte(u.Name)) != nil {
			return fmt.Errorf("user %s: %w", u.Name, ErrExists)
		}
		return put(users, []byte(u.Name), u.withRole())
	})
}

func (s *Bolt) User(name string) (User, error) {
	var u User
	err := s.view(func(tx *bolt.Tx) error { return getUser(tx.Bucket(bucketUsers), name, &u) })
	return u, err
}

func (s *Bolt) Users() ([]User, error) {
	var out []User
	var skipped SkippedError
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := decode(v, &u); err != nil {
				skipped.add(bucketUsers, k, err)
				return nil
			}
			out = append(out, u)
			return nil
		})
	})
	return out, skipped.or(err)
}

// getUser reads the account name from users; a missing one is ErrNoAccount.
func getUser(users *bolt.Bucket, name string, u *User) error {
	err := get(users, []byte(name), u)
	if errors.Is(err, ErrNotFound) {
		err = ErrNoAccount
	}
	if err != nil {
		return fmt.Errorf("user %s: %w", truncate(name, 40), err)
	}
	return nil
}

func (s *Bolt) UpdateUser(name string, fn func(*User) error) (User, error) {
	var u User
	err := s.update(func(tx *bolt.Tx) error {
		u = User{} // afresh: the transaction may run twice
		users := tx.Bucket(bucketUsers)
		if err := getUser(users, name, &u); err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			return err
		}
		u.Name = name
		u = u.withRole()
		return put(users, []byte(name), u)
	})
	return u, err
}

func (s *Bolt) RemoveUser(name string) error {
	return s.update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		if users.Get([]byte(name)) == nil {
			return fmt.Errorf("user %s: %w", truncate(name, 40), ErrNoAccount)
		}
		return users.Delete([]byte(name))
	})
}

// ---- credentials

func (s *Bolt) AddCredential(c Credential) error {
	return s.update(func(tx *bolt.Tx) error {
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
	err := s.view(func(tx *bolt.Tx) error {
		return get(tx.Bucket(bucketCreds), []byte(fingerprint), &c)
	})
	return c, err
}

func (s *Bolt) CredentialsForRequest(requestID string) ([]Credential, error) {
	var out []Credential
	err := s.view(func(tx *bolt.Tx) error {
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
	err := s.update(func(tx *bolt.Tx) error {
		c = Credential{} // afresh: the transaction may run twice
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
	var out Event
	err := s.update(func(tx *bolt.Tx) (err error) {
		out, err = s.appendEvent(tx, e)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("append audit event: %w", err)
	}
	return out, nil
}

// appendEvent adds e at the end of the chain inside tx, filling Seq, Prev and Hash.
func (s *Bolt) appendEvent(tx *bolt.Tx, e Event) (Event, error) {
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
		return Event{}, err
	}
	head := append(u64(e.Seq), e.Hash...)
	if err := meta.Put(keyAuditHead, head); err != nil {
		return Event{}, err
	}
	return e, meta.Put(keyAuditSeal, []byte(auditSeal(s.key, head)))
}

func (s *Bolt) Events(f EventFilter) ([]Event, error) {
	var out []Event
	var skipped SkippedError
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
			var e Event
			if err := decode(v, &e); err != nil {
				skipped.add(bucketEvents, k, err)
				return nil
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
	return out, skipped.or(err)
}

func (s *Bolt) VerifyEvents() error {
	return s.view(func(tx *bolt.Tx) error {
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
