package etcdstore

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/assistkit/assist/tickets"
)

// The use cases as tickets/usecases.go has them for bbolt, each one transaction with its audit
// events; tickets/storetest runs the same suite against both.

func (s *Store) ResumeRequest(f tickets.Filing) (tickets.Filed, error) {
	// Most agents that ask have no open request: one linearizable read answers them outside the
	// transactions, which take this gateway's write lock. The transaction decides on its own
	// reading.
	if err := s.hasAgent(f.AgentKey); err != nil {
		return tickets.Filed{}, err
	}
	var out tickets.Filed
	err := s.update(func(t *txn) error {
		out = tickets.Filed{}
		id := t.raw(pfxAgents + f.AgentKey)
		if f.AgentKey == "" || id == "" {
			return fmt.Errorf("open request for agent key %s: %w", f.AgentKey, tickets.ErrNotFound)
		}
		return s.resume(t, id, f, &out)
	})
	return out, err
}

// hasAgent returns tickets.ErrNotFound unless an open request is bound to the agent key.
func (s *Store) hasAgent(key string) error {
	if key == "" {
		return fmt.Errorf("open request for agent key %s: %w", key, tickets.ErrNotFound)
	}
	ctx, cancel := s.opContext()
	defer cancel()
	resp, err := s.cli.Get(ctx, s.k(pfxAgents+key), clientv3.WithCountOnly())
	if err != nil {
		return s.unavailable(err)
	}
	if resp.Count == 0 {
		return fmt.Errorf("open request for agent key %s: %w", key, tickets.ErrNotFound)
	}
	return nil
}

// FileRequest files a new request, or resumes the open one bound to f.AgentKey: the agent key's
// index is read in the transaction, so two gateways filing for the same agent at once make one
// request (the second one's transaction sees the first one's index and resumes).
func (s *Store) FileRequest(f tickets.Filing) (tickets.Filed, error) {
	var out tickets.Filed
	err := s.update(func(t *txn) error {
		out = tickets.Filed{}
		if id := t.raw(pfxAgents + f.AgentKey); f.AgentKey != "" && id != "" {
			return s.resume(t, id, f, &out)
		}
		now := s.now().UTC()
		r := tickets.Request{Form: f.Form, ID: tickets.NewRequestID(now), Created: now, Updated: now,
			State: tickets.StateWaiting, RemoteAddr: f.Remote, AgentKey: f.AgentKey}
		if err := createRequest(t, &r); err != nil {
			return err
		}
		out.Request = r
		return s.record(t, &out.Events, tickets.FilingEvent("request.filed", r, f))
	})
	if err != nil {
		return tickets.Filed{}, fmt.Errorf("file request: %w", err)
	}
	return out, nil
}

func createRequest(t *txn, r *tickets.Request) error {
	for {
		r.Code = tickets.NewCode()
		if t.raw(pfxCodes+r.Code) == "" {
			break
		}
	}
	reindex(t, tickets.Request{}, *r)
	t.putRaw(pfxCodes+r.Code, r.ID)
	return t.put(pfxRequests+r.ID, *r)
}

// reindex keeps agents/ and open/ naming open requests only, as bbolt's reindex.
func reindex(t *txn, before, after tickets.Request) {
	if before.AgentKey != "" && t.raw(pfxAgents+before.AgentKey) == before.ID {
		t.del(pfxAgents + before.AgentKey)
	}
	if !after.Open() {
		t.del(pfxOpen + after.ID)
		return
	}
	if after.AgentKey != "" {
		t.putRaw(pfxAgents+after.AgentKey, after.ID)
	}
	t.putRaw(pfxOpen+after.ID, after.ID)
}

func (s *Store) resume(t *txn, id string, f tickets.Filing, out *tickets.Filed) error {
	r, err := getRequest(t, id)
	if err != nil {
		return err
	}
	r.LocalIP, r.Screen, r.RemoteAddr, r.Updated = f.Form.LocalIP, f.Form.Screen, f.Remote, s.now().UTC()
	if err := t.put(pfxRequests+id, r); err != nil {
		return err
	}
	out.Request, out.Resumed = r, true
	return s.record(t, &out.Events, tickets.FilingEvent("request.resumed", r, f))
}

func (s *Store) CloseRequest(c tickets.Closing) (tickets.Closed, error) {
	var out tickets.Closed
	err := s.update(func(t *txn) error {
		out = tickets.Closed{}
		id, err := requestID(t, c.CodeOrID)
		if err != nil {
			return err
		}
		r, err := getRequest(t, id)
		if err != nil {
			return err
		}
		if !r.Open() {
			return fmt.Errorf("request %s is already %w", r.Code, tickets.ErrClosed)
		}
		before, now := r, s.now().UTC()
		r.State, r.Closed, r.ClosedBy, r.Updated = tickets.StateClosed, now, c.By, now
		reindex(t, before, r)
		if err := t.put(pfxRequests+id, r); err != nil {
			return err
		}
		out.Request = r
		kind := "request.closed"
		if c.Withdrawn {
			kind = "request.withdrawn"
		}
		if err := s.record(t, &out.Events, tickets.Event{Kind: kind, Actor: c.By, Request: r.Code, Remote: c.Remote}); err != nil {
			return err
		}
		return s.revokeAll(t, r, c.By, now, &out)
	})
	return out, err
}

func (s *Store) revokeAll(t *txn, r tickets.Request, by string, now time.Time, out *tickets.Closed) error {
	fps, err := credsOf(t, r.ID)
	if err != nil {
		return err
	}
	for _, fp := range fps {
		var c tickets.Credential
		if err := t.get(pfxCreds+fp, &c); err != nil {
			return fmt.Errorf("%s%s: %w", pfxCreds, fp, err)
		}
		if c.State != tickets.CredentialIssued && c.State != tickets.CredentialActive {
			continue
		}
		c.State, c.Ended = tickets.CredentialRevoked, now
		if err := t.put(pfxCreds+fp, c); err != nil {
			return err
		}
		out.Revoked = append(out.Revoked, c)
		if err := s.record(t, &out.Events, tickets.Event{Kind: "credential.revoked", Actor: by, Request: r.Code, Attrs: map[string]string{"credential": c.ID}}); err != nil {
			return err
		}
	}
	return nil
}

// credsOf reads a request's credential index.
func credsOf(t *txn, requestID string) ([]string, error) {
	var l credList
	if err := t.get(pfxCredsByRq+requestID, &l); err != nil && !errors.Is(err, tickets.ErrNotFound) {
		return nil, fmt.Errorf("%s%s: %w", pfxCredsByRq, requestID, err)
	}
	return l.Fingerprints, nil
}

func (s *Store) IssueCredential(i tickets.Issuing) (tickets.CredentialEvent, error) {
	valid, err := s.validity(i.Issued, i.Expires)
	if err != nil {
		return tickets.CredentialEvent{}, err
	}
	var out tickets.CredentialEvent
	err = s.update(func(t *txn) error {
		out = tickets.CredentialEvent{}
		r, err := openRequest(t, i.CodeOrID)
		if err != nil {
			return err
		}
		if err := tickets.ClaimedByAnother(r, i.Technician, i.Override || isAdmin(t, i.Technician)); err != nil {
			return err
		}
		if t.raw(pfxCreds+i.Fingerprint) != "" {
			return fmt.Errorf("credential %s: %w", i.Fingerprint, tickets.ErrExists)
		}
		c := tickets.Credential{ID: tickets.NewRequestID(i.Issued), RequestID: r.ID, RequestCode: r.Code, Technician: i.Technician,
			Fingerprint: i.Fingerprint, Issued: i.Issued.UTC(), Expires: i.Expires, State: tickets.CredentialIssued}
		fps, err := credsOf(t, r.ID)
		if err != nil {
			return err
		}
		if err := t.put(pfxCredsByRq+r.ID, credList{append(slices.Clone(fps), c.Fingerprint)}); err != nil {
			return err
		}
		if err := t.put(pfxCreds+c.Fingerprint, c); err != nil {
			return err
		}
		t.putRaw(pfxCredLive+c.Fingerprint, c.ID, clientv3.WithLease(valid))
		out.Credential = c
		if r.Owner == "" { // minting claims it
			r.Owner, r.Updated = i.Technician, i.Issued.UTC()
			if err := t.put(pfxRequests+r.ID, r); err != nil {
				return err
			}
			if err := s.record(t, &out.Events, tickets.Event{Kind: "request.claimed", Actor: c.Technician, Request: c.RequestCode,
				Attrs: map[string]string{"owner": c.Technician, "previous": "", "by": "otc"}}); err != nil {
				return err
			}
		}
		return s.record(t, &out.Events, tickets.Event{Kind: "credential.issued", Actor: c.Technician, Request: c.RequestCode, Attrs: map[string]string{
			"credential": c.ID, "fingerprint": c.Fingerprint, "expires": c.Expires.Format(time.RFC3339)}})
	})
	return out, err
}

// ClaimCredential starts the credential's one session, held by this gateway: the credential's
// state is read in the transaction, so of two gateways claiming it at once exactly one commits
// and the other retries, reads it active, and is refused. The session's key is under this
// gateway's lease, so a dead gateway's sessions can be spent by the others (EndStaleSessions).
func (s *Store) ClaimCredential(fp string, now time.Time) (tickets.CredentialEvent, error) {
	lease, err := s.lease()
	if err != nil {
		return tickets.CredentialEvent{}, err
	}
	var out tickets.CredentialEvent
	err = s.update(func(t *txn) error {
		out = tickets.CredentialEvent{}
		var c tickets.Credential
		if err := t.get(pfxCreds+fp, &c); err != nil {
			return fmt.Errorf("credential %s: %w", fp, err)
		}
		if use, why := tickets.CredentialRule(c, now, false); use != tickets.CredentialStarts {
			return errors.New(why)
		}
		if t.raw(pfxCredLive+fp) == "" {
			return errExpiredOnCluster // this gateway's clock is behind: the cluster counted the validity out
		}
		t.del(pfxCredLive + fp)
		c.State, c.Used = tickets.CredentialActive, now.UTC()
		if err := t.put(pfxCreds+fp, c); err != nil {
			return err
		}
		t.putRaw(pfxSessions+fp, s.gateway, clientv3.WithLease(lease))
		if err := setRequestState(t, c.RequestID, tickets.StateWaiting, tickets.StateActive); err != nil {
			return err
		}
		out.Credential = c
		return s.record(t, &out.Events, tickets.Event{Kind: "credential.used", Actor: c.Technician, Request: c.RequestCode,
			Attrs: map[string]string{"credential": c.ID, "gateway": s.gateway}})
	})
	if err == nil {
		s.heldSession(fp, true)
	}
	return out, err
}

func (s *Store) EndSession(e tickets.SessionEnd) (tickets.CredentialEvent, error) {
	var out tickets.CredentialEvent
	err := s.update(func(t *txn) error {
		out = tickets.CredentialEvent{}
		var c tickets.Credential
		if err := t.get(pfxCreds+e.Fingerprint, &c); err != nil {
			return fmt.Errorf("credential %s: %w", e.Fingerprint, err)
		}
		if c.State == tickets.CredentialActive || c.State == tickets.CredentialIssued {
			c.State, c.Ended = e.State, s.now().UTC()
			if err := t.put(pfxCreds+e.Fingerprint, c); err != nil {
				return err
			}
		}
		t.del(pfxSessions + e.Fingerprint)
		if err := setRequestState(t, c.RequestID, tickets.StateActive, tickets.StateWaiting); err != nil {
			return err
		}
		out.Credential = c
		events := []tickets.Event{{Kind: "session.ended", Actor: c.Technician, Request: c.RequestCode,
			Attrs: map[string]string{"credential": c.ID, "cause": e.Cause, "credential_state": string(e.State)}}}
		if e.State == tickets.CredentialSpent {
			events = append(events, tickets.Event{Kind: "credential.spent", Actor: c.Technician, Request: c.RequestCode, Attrs: map[string]string{"credential": c.ID}})
		}
		return s.record(t, &out.Events, events...)
	})
	if err == nil {
		s.heldSession(e.Fingerprint, false)
	}
	return out, err
}

// EndStaleSessions spends the active credentials whose session no live gateway holds: their
// session key went with the lease of the gateway that died (or stopped). A session another
// gateway holds now is left alone. One transaction per open request.
func (s *Store) EndStaleSessions() (int, error) {
	ids, err := s.openIDs()
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range ids {
		var n int
		err := s.update(func(t *txn) error {
			n = 0
			fps, err := credsOf(t, id)
			if err != nil {
				return err
			}
			now, live := s.now().UTC(), false
			for _, fp := range fps {
				var c tickets.Credential
				if err := t.get(pfxCreds+fp, &c); err != nil || c.State != tickets.CredentialActive {
					continue // an unreadable one cannot log in either; assistd check names it
				}
				if t.raw(pfxSessions+fp) != "" {
					live = true // another gateway's session, going on
					continue
				}
				c.State, c.Ended = tickets.CredentialSpent, now
				if err := t.put(pfxCreds+fp, c); err != nil {
					return err
				}
				n++
			}
			if live {
				return nil
			}
			return setRequestState(t, id, tickets.StateActive, tickets.StateWaiting)
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func setRequestState(t *txn, id string, from, to tickets.State) error {
	r, err := getRequest(t, id)
	if err != nil || r.State != from {
		return err
	}
	r.State = to
	return t.put(pfxRequests+id, r)
}

func (s *Store) HandOver(h tickets.Handover) (tickets.Handed, error) {
	var out tickets.Handed
	err := s.update(func(t *txn) error {
		out = tickets.Handed{}
		r, err := openRequest(t, h.CodeOrID)
		if err != nil {
			return err
		}
		if err := tickets.ClaimedByAnother(r, h.By, h.Override || isAdmin(t, h.By)); err != nil {
			return err
		}
		kind := "request.claimed"
		switch {
		case h.To == "":
			if r.Owner == "" {
				return fmt.Errorf("request %s is %w", r.Code, tickets.ErrNotClaimed)
			}
			kind = "request.released"
		case h.To != h.By:
			kind = "request.assigned"
			var u tickets.User
			if err := userError(h.To, t.get(pfxUsers+h.To, &u)); err != nil {
				return err
			}
			if err := tickets.MayOwn(u); err != nil {
				return err
			}
		}
		previous := r.Owner
		if previous == h.To {
			out.Request = r
			return nil
		}
		r.Owner, r.Updated = h.To, s.now().UTC()
		if err := t.put(pfxRequests+r.ID, r); err != nil {
			return err
		}
		out.Request = r
		return s.record(t, &out.Events, tickets.Event{Kind: kind, Actor: h.By, Request: r.Code,
			Attrs: map[string]string{"owner": h.To, "previous": previous}})
	})
	return out, err
}

func (s *Store) AddNote(n tickets.Noting) (tickets.Noted, error) {
	text, err := tickets.NoteText(n.Text)
	if err != nil {
		return tickets.Noted{}, err
	}
	var out tickets.Noted
	err = s.update(func(t *txn) error {
		out = tickets.Noted{}
		id, err := requestID(t, n.CodeOrID)
		if err != nil {
			return err
		}
		r, err := getRequest(t, id)
		if err != nil {
			return err
		}
		if len(r.Notes) >= tickets.MaxNotes {
			return fmt.Errorf("request %s has %d notes, the most it keeps", r.Code, tickets.MaxNotes)
		}
		note := tickets.Note{Time: s.now().UTC(), By: n.By, Text: text}
		r.Notes = append(slices.Clone(r.Notes), note)
		r.Updated = note.Time
		if err := t.put(pfxRequests+id, r); err != nil {
			return err
		}
		out.Request, out.Note = r, note
		return s.record(t, &out.Events, tickets.Event{Kind: "request.noted", Actor: n.By, Request: r.Code,
			Attrs: map[string]string{"bytes": strconv.Itoa(len(text))}})
	})
	return out, err
}

// requestID resolves a code or an ID inside a transaction.
func requestID(t *txn, codeOrID string) (string, error) {
	if code, err := tickets.NormalizeCode(codeOrID); err == nil {
		if id := t.raw(pfxCodes + code); id != "" {
			return id, nil
		}
		return "", fmt.Errorf("request %s: %w", code, tickets.ErrNotFound)
	}
	if codeOrID != "" && t.raw(pfxRequests+codeOrID) != "" {
		return codeOrID, nil
	}
	return "", fmt.Errorf("request %q: %w", tickets.Truncate(codeOrID, 40), tickets.ErrNotFound)
}

func getRequest(t *txn, id string) (tickets.Request, error) {
	var r tickets.Request
	if err := t.get(pfxRequests+id, &r); err != nil {
		return tickets.Request{}, fmt.Errorf("%s%s: %w", pfxRequests, id, err)
	}
	return r, nil
}

func openRequest(t *txn, codeOrID string) (tickets.Request, error) {
	id, err := requestID(t, codeOrID)
	if err != nil {
		return tickets.Request{}, err
	}
	r, err := getRequest(t, id)
	if err != nil {
		return tickets.Request{}, err
	}
	if !r.Open() {
		return tickets.Request{}, fmt.Errorf("request %s is %w", r.Code, tickets.ErrClosed)
	}
	return r, nil
}

func isAdmin(t *txn, name string) bool {
	var u tickets.User
	return t.get(pfxUsers+name, &u) == nil && u.AccountRole() == tickets.RoleAdmin
}
