// Package tickets holds assist's data: assistance requests, technician accounts, one-time
// credentials and audit events; the Store interface with its bbolt implementation; the request
// form agents send; key helpers; and the .otc file format. Of the project it imports only
// protocol.
package tickets

import (
	"errors"
	"time"
)

// State is where a request stands.
type State string

const (
	StateWaiting State = "waiting" // filed, nobody connected yet
	StateActive  State = "active"  // a technician's session is running
	StateClosed  State = "closed"  // done; the agent is told and disconnects
)

// Request is one person's call for help: the form they sent, and what the gateway adds. The
// form's fields and Created are the seed screen's rows.
type Request struct {
	Form
	Created time.Time `json:"created"`

	ID         string    `json:"id"`          // time-ordered, assigned by the store
	Code       string    `json:"code"`        // short, read over the phone, assigned by the store
	State      State     `json:"state"`       //
	RemoteAddr string    `json:"remote_addr"` // the agent's address as the gateway saw it
	AgentKey   string    `json:"agent_key"`   // SHA256 fingerprint of the agent's key; binds resume
	Updated    time.Time `json:"updated"`
	Closed     time.Time `json:"closed,omitzero"`
	ClosedBy   string    `json:"closed_by,omitempty"`
	Owner      string    `json:"owner,omitempty"` // the technician who claimed it (claims.go)
	Notes      []Note    `json:"notes,omitempty"`
}

// RequestChange is a request that changed: its code and the kind of the audit event that
// recorded the change (request.filed, agent.disconnected, …). The gateway streams them to
// request watch and the web list.
type RequestChange struct {
	Code string
	Kind string
}

// Open reports whether the request still waits for or receives help.
func (r Request) Open() bool { return r.State != StateClosed }

// User is an account of the help desk: a technician, an admin or an auditor (roles.go).
type User struct {
	Name     string   `json:"name"`
	FullName string   `json:"full_name"`
	Keys     []string `json:"keys"` // authorized_keys lines
	// Role is what the account may do; empty in accounts stored before roles (AccountRole).
	Role Role `json:"role,omitempty"`
	// Admin is set with Role admin, and read for accounts without a Role.
	Admin        bool      `json:"admin"`
	PasswordHash string    `json:"password_hash,omitempty"` // argon2id, for the help-desk web screen
	Created      time.Time `json:"created"`
}

// CredentialState is where a one-time credential stands: issued → active → spent, or revoked.
type CredentialState string

const (
	CredentialIssued  CredentialState = "issued"
	CredentialActive  CredentialState = "active"
	CredentialSpent   CredentialState = "spent"
	CredentialRevoked CredentialState = "revoked"
)

// Credential records a one-time credential. The private key is in the .otc file only; the
// gateway keeps its fingerprint.
type Credential struct {
	ID          string          `json:"id"`
	RequestID   string          `json:"request_id"`
	RequestCode string          `json:"request_code"`
	Technician  string          `json:"technician"`
	Fingerprint string          `json:"fingerprint"`
	Issued      time.Time       `json:"issued"`
	Expires     time.Time       `json:"expires"`
	State       CredentialState `json:"state"`
	Used        time.Time       `json:"used,omitzero"`
	Ended       time.Time       `json:"ended,omitzero"`
}

// Usable reports whether a new login with the credential may start a session at now.
func (c Credential) Usable(now time.Time) bool {
	use, _ := CredentialRule(c, now, false)
	return use == CredentialStarts
}

var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrNoAccount is an account name that names no account; it is an ErrNotFound too, so
	// that callers can tell a missing account from a missing request.
	ErrNoAccount error = noAccount{}
)

type noAccount struct{}

func (noAccount) Error() string        { return ErrNotFound.Error() }
func (noAccount) Is(target error) bool { return target == ErrNotFound }
