package etcdstore

import (
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/assistkit/assist/tickets"
)

// ---- requests

func (s *Store) Request(codeOrID string) (tickets.Request, error) {
	id := codeOrID
	if code, err := tickets.NormalizeCode(codeOrID); err == nil {
		ctx, cancel := s.opContext()
		defer cancel()
		resp, err := s.cli.Get(ctx, s.k(pfxCodes+code))
		if err != nil {
			return tickets.Request{}, s.unavailable(err)
		}
		if len(resp.Kvs) == 0 {
			return tickets.Request{}, fmt.Errorf("request %s: %w", code, tickets.ErrNotFound)
		}
		id = string(resp.Kvs[0].Value)
	}
	var r tickets.Request
	if id == "" || strings.Contains(id, "/") {
		return r, fmt.Errorf("request %q: %w", tickets.Truncate(codeOrID, 40), tickets.ErrNotFound)
	}
	if err := s.get(pfxRequests+id, &r); err != nil {
		if errors.Is(err, tickets.ErrNotFound) {
			return r, fmt.Errorf("request %q: %w", tickets.Truncate(codeOrID, 40), err)
		}
		return r, fmt.Errorf("%s%s: %w", pfxRequests, id, err)
	}
	return r, nil
}

// listChunk is how many keys a list reads at a time; the open list reads their requests in one
// transaction of as many gets, under etcd's default limit of 128 operations.
const listChunk = 100

// Requests pages through open/ (or, with q.Closed, requests/) newest first, as bbolt's store:
// every chunk is read at the revision of the first, so a page is one consistent picture.
func (s *Store) Requests(q tickets.RequestQuery) (tickets.RequestPage, error) {
	pfx := pfxOpen
	if q.Closed {
		pfx = pfxRequests
	}
	start := s.k(pfx)
	if !q.Since.IsZero() {
		start = s.k(pfx + tickets.IDPrefix(q.Since))
	}
	end := clientv3.GetPrefixRangeEnd(s.k(pfx))
	if q.After != "" {
		end = s.k(pfx + q.After)
	}
	var page tickets.RequestPage
	var rev int64
	for {
		kvs, more, at, err := s.chunk(start, end, rev, !q.Closed)
		if err != nil {
			return tickets.RequestPage{}, err
		}
		rev = at
		if !q.Closed {
			if kvs, err = s.loadRequests(kvs, rev); err != nil {
				return tickets.RequestPage{}, err
			}
		}
		for _, kv := range kvs {
			id := string(kv.Key[len(s.k(pfx)):])
			if q.Limit > 0 && len(page.Requests) == q.Limit {
				page.Next = page.Requests[len(page.Requests)-1].ID
				return page, nil
			}
			var r tickets.Request
			if err := tickets.DecodeValue(kv.Value, &r); err != nil {
				page.Skipped = append(page.Skipped, tickets.SkippedRecord{Key: pfxRequests + id, Reason: err.Error()})
				continue
			}
			page.Requests = append(page.Requests, r)
		}
		if !more || len(kvs) == 0 {
			return page, nil
		}
		end = string(kvs[len(kvs)-1].Key)
	}
}

// kv is a key and its value; the value of an open/ key is its request's.
type kv struct{ Key, Value []byte }

// chunk reads up to listChunk keys of [start, end), last first, at rev (0: now).
func (s *Store) chunk(start, end string, rev int64, keysOnly bool) ([]kv, bool, int64, error) {
	ctx, cancel := s.opContext()
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend),
		clientv3.WithLimit(listChunk), clientv3.WithRev(rev)}
	if keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	resp, err := s.cli.Get(ctx, start, opts...)
	if err != nil {
		return nil, false, 0, s.unavailable(err)
	}
	out := make([]kv, len(resp.Kvs))
	for i, p := range resp.Kvs {
		out[i] = kv{p.Key, p.Value}
	}
	return out, resp.More, resp.Header.Revision, nil
}

// loadRequests replaces each open/ key's value with its request's record, read at rev in one
// transaction; a key whose request is missing gets no value (DecodeValue names it).
func (s *Store) loadRequests(keys []kv, rev int64) ([]kv, error) {
	if len(keys) == 0 {
		return keys, nil
	}
	ops := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		ops[i] = clientv3.OpGet(s.k(pfxRequests)+string(k.Key[len(s.k(pfxOpen)):]), clientv3.WithRev(rev))
	}
	ctx, cancel := s.opContext()
	defer cancel()
	resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, s.unavailable(err)
	}
	for i, r := range resp.Responses {
		keys[i].Value = nil
		if got := r.GetResponseRange().Kvs; len(got) > 0 {
			keys[i].Value = got[0].Value
		}
	}
	return keys, nil
}

// openIDs lists the IDs of the open requests.
func (s *Store) openIDs() ([]string, error) {
	var ids []string
	end, rev := clientv3.GetPrefixRangeEnd(s.k(pfxOpen)), int64(0)
	for {
		kvs, more, at, err := s.chunk(s.k(pfxOpen), end, rev, true)
		if err != nil {
			return nil, err
		}
		rev = at
		for _, p := range kvs {
			ids = append(ids, string(p.Key[len(s.k(pfxOpen)):]))
		}
		if !more || len(kvs) == 0 {
			return ids, nil
		}
		end = string(kvs[len(kvs)-1].Key)
	}
}

// eachAt calls fn with every key (below the prefix) and value under pfx, in key order, at
// revision rev (0: now, then the revision of the first read).
func (s *Store) eachAt(pfx string, rev int64, fn func(key string, value []byte) error) error {
	start, end := s.k(pfx), clientv3.GetPrefixRangeEnd(s.k(pfx))
	for {
		ctx, cancel := s.opContext()
		resp, err := s.cli.Get(ctx, start, clientv3.WithRange(end), clientv3.WithLimit(1000), clientv3.WithRev(rev),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		cancel()
		if err != nil {
			return s.unavailable(err)
		}
		rev = resp.Header.Revision
		for _, p := range resp.Kvs {
			if err := fn(string(p.Key[len(s.prefix):]), p.Value); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// ---- users

func (s *Store) AddUser(u tickets.User) error {
	if u.Created.IsZero() {
		u.Created = s.now().UTC()
	}
	return s.update(func(t *txn) error {
		if t.raw(pfxUsers+u.Name) != "" {
			return fmt.Errorf("user %s: %w", u.Name, tickets.ErrExists)
		}
		return t.put(pfxUsers+u.Name, tickets.StoredUser(u))
	})
}

func (s *Store) User(name string) (tickets.User, error) {
	var u tickets.User
	if err := userError(name, s.get(pfxUsers+name, &u)); err != nil {
		return tickets.User{}, err
	}
	return u, nil
}

// userError names the account in err; a missing one is tickets.ErrNoAccount.
func userError(name string, err error) error {
	if errors.Is(err, tickets.ErrNotFound) {
		err = tickets.ErrNoAccount
	}
	if err != nil {
		return fmt.Errorf("user %s: %w", tickets.Truncate(name, 40), err)
	}
	return nil
}

func (s *Store) Users() ([]tickets.User, error) {
	var out []tickets.User
	var skipped tickets.SkippedError
	err := s.eachAt(pfxUsers, 0, func(k string, v []byte) error {
		var u tickets.User
		if err := tickets.DecodeValue(v, &u); err != nil {
			skipped.Records = append(skipped.Records, tickets.SkippedRecord{Key: k, Reason: err.Error()})
			return nil
		}
		out = append(out, u)
		return nil
	})
	if err == nil && len(skipped.Records) > 0 {
		err = &skipped
	}
	return out, err
}

func (s *Store) UpdateUser(name string, fn func(*tickets.User) error) (tickets.User, error) {
	var u tickets.User
	err := s.update(func(t *txn) error {
		u = tickets.User{}
		if err := userError(name, t.get(pfxUsers+name, &u)); err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			return err
		}
		u.Name = name
		u = tickets.StoredUser(u)
		return t.put(pfxUsers+name, u)
	})
	return u, err
}

func (s *Store) RemoveUser(name string) error {
	return s.update(func(t *txn) error {
		if t.raw(pfxUsers+name) == "" {
			return userError(name, tickets.ErrNotFound)
		}
		t.del(pfxUsers + name)
		return nil
	})
}

// ---- credentials

func (s *Store) Credential(fingerprint string) (tickets.Credential, error) {
	var c tickets.Credential
	err := s.get(pfxCreds+fingerprint, &c)
	return c, err
}

func (s *Store) CredentialsForRequest(requestID string) ([]tickets.Credential, error) {
	var out []tickets.Credential
	// A read-only transaction: the index and the credentials at one revision.
	err := s.update(func(t *txn) error {
		out = nil
		fps, err := credsOf(t, requestID)
		if err != nil {
			return err
		}
		for _, fp := range fps {
			var c tickets.Credential
			if err := t.get(pfxCreds+fp, &c); err != nil {
				return fmt.Errorf("credential %s: %w", fp, err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}
