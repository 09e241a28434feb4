package tickets

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store's operations are the gateway's use cases: each one transaction that changes the
// records and appends the audit events that say so, so no invariant spans two transactions and
// a crash leaves either all of an operation or none of it. They return the events appended, for
// the gateway's log.

// Filing is an agent filing its request, or filing again after a reconnect.
type Filing struct {
	Form     Form
	AgentKey string // SHA256 fingerprint of the agent's key: it binds the request to the agent
	Remote   string // the agent's address as the gateway saw it
	Actor    string // who the audit trail names, e.g. "agent:SHA256:…"
}

// Filed is what FileRequest or ResumeRequest did.
type Filed struct {
	Request Request
	Resumed bool // the open request bound to the agent key was resumed, not a new one filed
	Events  []Event
}

// Closing is a request being closed by the help desk, or withdrawn by the person.
type Closing struct {
	CodeOrID  string
	By        string // who closed it, as the audit trail names them
	Withdrawn bool   // the person withdrew it (request.withdrawn), rather than the help desk closing it
	Remote    string
}

// Closed is what CloseRequest did.
type Closed struct {
	Request Request
	Revoked []Credential // the request's credentials that could still log in, now revoked
	Events  []Event
}

// Issuing is a one-time credential being recorded for a request. The private key is not here:
// it goes into the .otc file only.
type Issuing struct {
	CodeOrID    string
	Technician  string
	Override    bool // open a request another claimed; an admin's account always may
	Fingerprint string
	Issued      time.Time // now, on the caller's clock
	Expires     time.Time
}

// CredentialEvent is a credential after an operation, and the events that recorded it.
type CredentialEvent struct {
	Credential Credential
	Events     []Event
}

// SessionEnd is a one-time credential's session ending.
type SessionEnd struct {
	Fingerprint string
	Cause       string          // in words, for the audit trail
	State       CredentialState // what the credential becomes: spent, or revoked
}

// ErrClosed is a request that is closed already.
var ErrClosed = errors.New("closed")

// ResumeRequest resumes the open request bound to f.AgentKey with the connection's addresses,
// or returns ErrNotFound.
func (s *Bolt) ResumeRequest(f Filing) (Filed, error) {
	// Most agents that ask have no open request: answering them from a read transaction keeps
	// their ErrNotFound out of the shared commits, where a failing write makes its whole group
	// run again. The write below decides on its own reading.
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAgentKeys).Get([]byte(f.AgentKey)) == nil {
			return fmt.Errorf("open request for agent key %s: %w", f.AgentKey, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return Filed{}, err
	}
	var out Filed
	err = s.update(func(tx *bolt.Tx) error {
		out = Filed{}
		id := tx.Bucket(bucketAgentKeys).Get([]byte(f.AgentKey))
		if id == nil {
			return fmt.Errorf("open request for agent key %s: %w", f.AgentKey, ErrNotFound)
		}
		return s.resume(tx, id, f, &out)
	})
	return out, err
}

// FileRequest files a new request from f, or resumes the open one bound to f.AgentKey.
func (s *Bolt) FileRequest(f Filing) (Filed, error) {
	var out Filed
	err := s.update(func(tx *bolt.Tx) error {
		out = Filed{}
		if id := tx.Bucket(bucketAgentKeys).Get([]byte(f.AgentKey)); f.AgentKey != "" && id != nil {
			return s.resume(tx, id, f, &out)
		}
		now := s.now().UTC()
		r := Request{Form: f.Form, ID: newID(now), Created: now, Updated: now, State: StateWaiting, RemoteAddr: f.Remote, AgentKey: f.AgentKey}
		if err := createRequest(tx, &r); err != nil {
			return err
		}
		out.Request = r
		return s.record(tx, &out.Events, filingEvent("request.filed", r, f))
	})
	if err != nil {
		return Filed{}, fmt.Errorf("file request: %w", err)
	}
	return out, nil
}

func (s *Bolt) resume(tx *bolt.Tx, id []byte, f Filing, out *Filed) error {
	r, err := getRequest(tx, id)
	if err != nil {
		return err
	}
	// The agent says again what it can do: a restarted agent may now have, or lack, a screen.
	r.LocalIP, r.Screen, r.RemoteAddr, r.Updated = f.Form.LocalIP, f.Form.Screen, f.Remote, s.now().UTC()
	if err := put(tx.Bucket(bucketRequests), id, r); err != nil {
		return err
	}
	out.Request, out.Resumed = r, true
	return s.record(tx, &out.Events, filingEvent("request.resumed", r, f))
}

func filingEvent(kind string, r Request, f Filing) Event {
	return Event{Kind: kind, Actor: f.Actor, Request: r.Code, Remote: f.Remote,
		Attrs: map[string]string{"full_name": r.FullName, "computer": r.Computer, "local_ip": r.LocalIP}}
}

// record appends events inside tx and adds them to out.
func (s *Bolt) record(tx *bolt.Tx, out *[]Event, events ...Event) error {
	for _, e := range events {
		if e.Time.IsZero() {
			e.Time = s.now().UTC()
		}
		e, err := s.appendEvent(tx, e)
		if err != nil {
			return err
		}
		*out = append(*out, e)
	}
	return nil
}

// CloseRequest closes an open request and revokes every credential of it that could still log
// in; the gateway then ends their sessions and drops the agent.
func (s *Bolt) CloseRequest(c Closing) (Closed, error) {
	var out Closed
	err := s.update(func(tx *bolt.Tx) error {
		out = Closed{}
		id, err := requestID(tx, c.CodeOrID)
		if err != nil {
			return err
		}
		r, err := getRequest(tx, id)
		if err != nil {
			return err
		}
		if !r.Open() {
			return fmt.Errorf("request %s is already %w", r.Code, ErrClosed)
		}
		before, now := r, s.now().UTC()
		r.State, r.Closed, r.ClosedBy, r.Updated = StateClosed, now, c.By, now
		if err := reindex(tx, before, r); err != nil {
			return err
		}
		if err := put(tx.Bucket(bucketRequests), id, r); err != nil {
			return err
		}
		out.Request = r
		kind := "request.closed"
		if c.Withdrawn {
			kind = "request.withdrawn"
		}
		if err := s.record(tx, &out.Events, Event{Kind: kind, Actor: c.By, Request: r.Code, Remote: c.Remote}); err != nil {
			return err
		}
		return s.revokeAll(tx, r, c.By, now, &out)
	})
	return out, err
}

func (s *Bolt) revokeAll(tx *bolt.Tx, r Request, by string, now time.Time, out *Closed) error {
	creds := tx.Bucket(bucketCreds)
	prefix := []byte(r.ID + "/")
	cur := tx.Bucket(bucketCredsByReq).Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		fp := k[len(prefix):]
		var c Credential
		if err := get(creds, fp, &c); err != nil {
			return fmt.Errorf("%s: %w", recordKey(bucketCreds, fp), err)
		}
		if c.State != CredentialIssued && c.State != CredentialActive {
			continue
		}
		c.State, c.Ended = CredentialRevoked, now
		if err := put(creds, fp, c); err != nil {
			return err
		}
		out.Revoked = append(out.Revoked, c)
		if err := s.record(tx, &out.Events, Event{Kind: "credential.revoked", Actor: by, Request: r.Code, Attrs: map[string]string{"credential": c.ID}}); err != nil {
			return err
		}
	}
	return nil
}

// IssueCredential records a one-time credential for the open request i.CodeOrID.
func (s *Bolt) IssueCredential(i Issuing) (CredentialEvent, error) {
	var out CredentialEvent
	err := s.update(func(tx *bolt.Tx) error {
		out = CredentialEvent{}
		r, err := openRequest(tx, i.CodeOrID)
		if err != nil {
			return err
		}
		if err := claimedByAnother(r, i.Technician, i.Override || isAdmin(tx, i.Technician)); err != nil {
			return err
		}
		creds := tx.Bucket(bucketCreds)
		if creds.Get([]byte(i.Fingerprint)) != nil {
			return fmt.Errorf("credential %s: %w", i.Fingerprint, ErrExists)
		}
		c := Credential{ID: newID(i.Issued), RequestID: r.ID, RequestCode: r.Code, Technician: i.Technician,
			Fingerprint: i.Fingerprint, Issued: i.Issued.UTC(), Expires: i.Expires, State: CredentialIssued}
		if err := tx.Bucket(bucketCredsByReq).Put([]byte(c.RequestID+"/"+c.Fingerprint), nil); err != nil {
			return err
		}
		if err := put(creds, []byte(c.Fingerprint), c); err != nil {
			return err
		}
		out.Credential = c
		if r.Owner == "" { // minting claims it
			r.Owner, r.Updated = i.Technician, i.Issued.UTC()
			if err := put(tx.Bucket(bucketRequests), []byte(r.ID), r); err != nil {
				return err
			}
			if err := s.record(tx, &out.Events, Event{Kind: "request.claimed", Actor: c.Technician, Request: c.RequestCode,
				Attrs: map[string]string{"owner": c.Technician, "previous": "", "by": "otc"}}); err != nil {
				return err
			}
		}
		return s.record(tx, &out.Events, Event{Kind: "credential.issued", Actor: c.Technician, Request: c.RequestCode, Attrs: map[string]string{
			"credential": c.ID, "fingerprint": c.Fingerprint, "expires": c.Expires.Format(time.RFC3339)}})
	})
	return out, err
}

// ClaimCredential starts the one session of the credential with fingerprint fp: issued becomes
// active, its request active. It fails with the rule's reason when the credential cannot start
// a session (CredentialRule).
func (s *Bolt) ClaimCredential(fp string, now time.Time) (CredentialEvent, error) {
	var out CredentialEvent
	err := s.update(func(tx *bolt.Tx) error {
		out = CredentialEvent{}
		creds := tx.Bucket(bucketCreds)
		var c Credential
		if err := get(creds, []byte(fp), &c); err != nil {
			return fmt.Errorf("credential %s: %w", fp, err)
		}
		if use, why := CredentialRule(c, now, false); use != CredentialStarts {
			return errors.New(why)
		}
		c.State, c.Used = CredentialActive, now.UTC()
		if err := put(creds, []byte(fp), c); err != nil {
			return err
		}
		if err := setRequestState(tx, c.RequestID, StateWaiting, StateActive); err != nil {
			return err
		}
		out.Credential = c
		return s.record(tx, &out.Events, Event{Kind: "credential.used", Actor: c.Technician, Request: c.RequestCode, Attrs: map[string]string{"credential": c.ID}})
	})
	return out, err
}

// EndSession records the end of a credential's session: the credential becomes e.State unless
// it was revoked already, and its request waits for help again.
func (s *Bolt) EndSession(e SessionEnd) (CredentialEvent, error) {
	var out CredentialEvent
	err := s.update(func(tx *bolt.Tx) error {
		out = CredentialEvent{}
		creds := tx.Bucket(bucketCreds)
		var c Credential
		if err := get(creds, []byte(e.Fingerprint), &c); err != nil {
			return fmt.Errorf("credential %s: %w", e.Fingerprint, err)
		}
		if c.State == CredentialActive || c.State == CredentialIssued {
			c.State, c.Ended = e.State, s.now().UTC()
			if err := put(creds, []byte(e.Fingerprint), c); err != nil {
				return err
			}
		}
		if err := setRequestState(tx, c.RequestID, StateActive, StateWaiting); err != nil {
			return err
		}
		out.Credential = c
		events := []Event{{Kind: "session.ended", Actor: c.Technician, Request: c.RequestCode,
			Attrs: map[string]string{"credential": c.ID, "cause": e.Cause, "credential_state": string(e.State)}}}
		if e.State == CredentialSpent {
			events = append(events, Event{Kind: "credential.spent", Actor: c.Technician, Request: c.RequestCode, Attrs: map[string]string{"credential": c.ID}})
		}
		return s.record(tx, &out.Events, events...)
	})
	return out, err
}

// EndStaleSessions spends the credentials whose session was live when the gateway last stopped
// (a session does not outlive the process that held it) and puts their requests back to waiting.
// It returns how many it spent.
func (s *Bolt) EndStaleSessions() (int, error) {
	var n int
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		creds, now := tx.Bucket(bucketCreds), s.now().UTC()
		return tx.Bucket(bucketOpenRequests).ForEach(func(id, _ []byte) error {
			prefix := append(bytes.Clone(id), '/')
			cur := tx.Bucket(bucketCredsByReq).Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
				var c Credential
				if err := get(creds, k[len(prefix):], &c); err != nil || c.State != CredentialActive {
					continue // an unreadable one cannot log in either; assistd check names it
				}
				c.State, c.Ended = CredentialSpent, now
				if err := put(creds, k[len(prefix):], c); err != nil {
					return err
				}
				n++
			}
			return setRequestState(tx, string(id), StateActive, StateWaiting)
		})
	})
	return n, err
}

// setRequestState moves the request from one state to another, and leaves it alone in any other.
func setRequestState(tx *bolt.Tx, id string, from, to State) error {
	r, err := getRequest(tx, []byte(id))
	if err != nil || r.State != from {
		return err
	}
	r.State = to
	return put(tx.Bucket(bucketRequests), []byte(id), r)
}

// getRequest reads the request with id, naming its record when it cannot.
func getRequest(tx *bolt.Tx, id []byte) (Request, error) {
	var r Request
	if err := get(tx.Bucket(bucketRequests), id, &r); err != nil {
		return Request{}, fmt.Errorf("%s: %w", recordKey(bucketRequests, id), err)
	}
	return r, nil
}

// isAdmin reads, in the transaction that relies on it, whether name's account is an admin's.
func isAdmin(tx *bolt.Tx, name string) bool {
	var u User
	return get(tx.Bucket(bucketUsers), []byte(name), &u) == nil && u.AccountRole() == RoleAdmin
}
