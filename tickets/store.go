package tickets

import (
	"fmt"
	"time"
)

// Store keeps requests, accounts, credentials and the audit trail. The bbolt file is the default
// (OpenBolt); nothing outside this package sees a bbolt type, so another backend (etcd) can stand
// beside it. Its writes are the gateway's operations (see usecases.go), each one transaction with
// its audit events, none a read and a write in two steps. Every write is durable when the method
// returns; concurrent writes share a commit.
type Store interface {
	// FileRequest files a new request, or resumes the open one bound to the agent's key.
	FileRequest(f Filing) (Filed, error)
	// ResumeRequest resumes the open request bound to the agent's key, or returns ErrNotFound.
	ResumeRequest(f Filing) (Filed, error)
	// CloseRequest closes an open request and revokes its credentials that could still log in.
	CloseRequest(c Closing) (Closed, error)
	// Request finds a request by code (any spelling NormalizeCode accepts) or by ID.
	Request(codeOrID string) (Request, error)
	// Requests lists requests newest first, a page at a time. A record that cannot be read is
	// left out and named in the page's Skipped, so one damaged record does not hide the others.
	Requests(q RequestQuery) (RequestPage, error)

	// HandOver claims, assigns or releases an open request (claims.go).
	HandOver(h Handover) (Handed, error)
	// AddNote adds a technician's note to a request.
	AddNote(n Noting) (Noted, error)

	// IssueCredential records a one-time credential for an open request; for a request another
	// technician claimed it fails with a *ClaimedError (unless Override, or the account is an admin's), and it claims an
	// unclaimed one.
	IssueCredential(i Issuing) (CredentialEvent, error)
	// ClaimCredential starts a credential's one session, if CredentialRule lets it.
	ClaimCredential(fingerprint string, now time.Time) (CredentialEvent, error)
	// EndSession records the end of a credential's session.
	EndSession(e SessionEnd) (CredentialEvent, error)
	// EndStaleSessions spends the credentials whose session a stopped gateway held.
	EndStaleSessions() (int, error)
	// Credential finds a credential by its key fingerprint.
	Credential(fingerprint string) (Credential, error)
	// CredentialsForRequest lists a request's credentials.
	CredentialsForRequest(requestID string) ([]Credential, error)

	AddUser(u User) error
	User(name string) (User, error)
	// Users lists the accounts; records it cannot read are left out and named in a
	// *SkippedError returned beside the others.
	Users() ([]User, error)
	UpdateUser(name string, fn func(*User) error) (User, error)
	RemoveUser(name string) error

	// AppendEvent adds an audit event at the end of the chain, filling Seq, Prev and Hash.
	AppendEvent(e Event) (Event, error)
	// Events lists audit events in order, filtered; records it cannot read are left out and
	// named in a *SkippedError returned beside the others (VerifyEvents reports them as tampering).
	Events(f EventFilter) ([]Event, error)
	// VerifyEvents walks the whole chain and returns a *TamperError at the first event that was
	// edited, removed or inserted.
	VerifyEvents() error

	Close() error
}

// RequestQuery selects a page of requests, newest first.
type RequestQuery struct {
	Closed bool      // closed requests too; otherwise only open ones
	Since  time.Time // only requests created at or after Since
	After  string    // a page's Next: continue with the requests older than that one
	Limit  int       // at most Limit requests; 0 means no limit
}

// RequestPage is one page of a request list.
type RequestPage struct {
	Requests []Request
	Next     string          // the After of the next page; empty when this page is the last
	Skipped  []SkippedRecord // records that could not be read, left out of Requests
}

// SkippedRecord is a stored record a list could not read.
type SkippedRecord struct {
	Key    string // bucket/key
	Reason string
}

func (r SkippedRecord) String() string { return r.Key + ": " + r.Reason }

// SkippedError is a list that left out records it could not read. The records returned with it
// are good: callers show them and report the skipped ones.
type SkippedError struct {
	Records []SkippedRecord
}

func (e *SkippedError) Error() string {
	return fmt.Sprintf("%d damaged record(s) skipped, first %s", len(e.Records), e.Records[0])
}

func (e *SkippedError) add(bucket, key []byte, err error) {
	e.Records = append(e.Records, SkippedRecord{recordKey(bucket, key), err.Error()})
}

// or is err, or e when err is nil and something was skipped.
func (e *SkippedError) or(err error) error {
	if err != nil || len(e.Records) == 0 {
		return err
	}
	return e
}
