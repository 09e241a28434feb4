package etcdstore

import (
	"errors"
	"fmt"
	"slices"

	"github.com/assistkit/assist/tickets"
)

// Check reads the whole store at one revision, as tickets.(*Bolt).Check reads the file in one
// transaction: the schema version, every record decoded, every index entry matched with its
// record, and then the audit chain (VerifyEvents, at the revision of its own first read). etcd
// checks its own pages (its members' bbolt files); a member that lost data is etcd's finding
// (etcdctl check datascale, endpoint hashkv), not this one's.
func (s *Store) Check() (tickets.CheckReport, error) {
	var rep tickets.CheckReport
	at, err := s.readAll()
	if err != nil {
		return rep, err
	}
	if v, err := decodeSchemaVersion(at.keys[keySchemaVersion]); err != nil {
		rep.Add(keySchemaVersion, "%v", err)
	} else {
		rep.Schema = v
	}
	at.checkRequests(&rep)
	at.checkCredentials(&rep)
	for k, v := range at.under(pfxUsers) {
		rep.Users++
		var u tickets.User
		if err := tickets.DecodeValue(v, &u); err != nil {
			rep.Add(k, "%v", err)
		}
	}
	for range at.under(pfxEvents) {
		rep.Events++
	}
	if err := s.VerifyEvents(); err != nil {
		var te *tickets.TamperError
		if !errors.As(err, &te) {
			return rep, err
		}
		rep.Add(fmt.Sprintf("audit event %d", te.Seq), "%s", te.Reason)
	}
	return rep, nil
}

// snapshot is every key of the store (below the prefix) at one revision.
type snapshot struct {
	keys map[string][]byte
}

func (s *Store) readAll() (*snapshot, error) {
	at := &snapshot{keys: map[string][]byte{}}
	err := s.eachAt("", 0, func(k string, v []byte) error {
		at.keys[k] = v
		return nil
	})
	return at, err
}

// under yields the keys with prefix pfx in key order.
func (at *snapshot) under(pfx string) func(yield func(string, []byte) bool) {
	return func(yield func(string, []byte) bool) {
		var ks []string
		for k := range at.keys {
			if len(k) > len(pfx) && k[:len(pfx)] == pfx {
				ks = append(ks, k)
			}
		}
		slices.Sort(ks)
		for _, k := range ks {
			if !yield(k, at.keys[k]) {
				return
			}
		}
	}
}

// request decodes the request with id; false when it is missing or unreadable.
func (at *snapshot) request(id string) (tickets.Request, bool) {
	var r tickets.Request
	raw, ok := at.keys[pfxRequests+id]
	return r, ok && tickets.DecodeValue(raw, &r) == nil
}

func (at *snapshot) checkRequests(rep *tickets.CheckReport) {
	for k, v := range at.under(pfxRequests) {
		id := k[len(pfxRequests):]
		rep.Requests++
		var r tickets.Request
		if err := tickets.DecodeValue(v, &r); err != nil {
			rep.Add(k, "%v", err)
			continue
		}
		if r.ID != id {
			rep.Add(k, "holds request %s", r.ID)
		}
		if string(at.keys[pfxCodes+r.Code]) != id {
			rep.Add(pfxCodes+r.Code, "does not point at request %s", id)
		}
		if !r.Open() {
			continue
		}
		rep.Open++
		if _, ok := at.keys[pfxOpen+id]; !ok {
			rep.Add(pfxOpen+id, "missing for an open request")
		}
		if r.AgentKey != "" && string(at.keys[pfxAgents+r.AgentKey]) != id {
			rep.Add(pfxAgents+r.AgentKey, "does not point at its open request %s", id)
		}
	}
	for k, v := range at.under(pfxCodes) {
		if _, ok := at.keys[pfxRequests+string(v)]; !ok {
			rep.Add(k, "points at missing request %s", v)
		}
	}
	for k := range at.under(pfxOpen) {
		id := k[len(pfxOpen):]
		switch r, ok := at.request(id); {
		case !ok && at.keys[pfxRequests+id] == nil:
			rep.Add(k, "names a missing request")
		case ok && !r.Open():
			rep.Add(k, "names a closed request")
		}
	}
	for k, v := range at.under(pfxAgents) {
		if r, ok := at.request(string(v)); !ok || !r.Open() {
			rep.Add(k, "points at %s, which is not an open request", v)
		}
	}
}

func (at *snapshot) checkCredentials(rep *tickets.CheckReport) {
	lists := map[string][]string{} // request id → fingerprints its index lists
	for k, v := range at.under(pfxCredsByRq) {
		id := k[len(pfxCredsByRq):]
		var l credList
		if err := tickets.DecodeValue(v, &l); err != nil {
			rep.Add(k, "%v", err)
			continue
		}
		if _, ok := at.keys[pfxRequests+id]; !ok {
			rep.Add(k, "names a missing request")
		}
		for _, fp := range l.Fingerprints {
			if _, ok := at.keys[pfxCreds+fp]; !ok {
				rep.Add(k, "lists missing credential %s", fp)
			}
		}
		lists[id] = l.Fingerprints
	}
	for k, v := range at.under(pfxCreds) {
		rep.Credentials++
		var c tickets.Credential
		if err := tickets.DecodeValue(v, &c); err != nil {
			rep.Add(k, "%v", err)
			continue
		}
		if !slices.Contains(lists[c.RequestID], c.Fingerprint) {
			rep.Add(pfxCredsByRq+c.RequestID, "does not list its credential %s", c.Fingerprint)
		}
	}
}
