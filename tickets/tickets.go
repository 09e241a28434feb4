// Package tickets holds assist's data: assistance requests, technician accounts, one-time
// credentials and audit events; the Store interface with its bbolt implementation; the request
// form agents send; and the .otc file format. It imports nothing of the project.
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

// Request is one person's call for help. The first eight fields are the seed screen's rows.
type Request struct {
	FullName string    `json:"full_name"`
	UserName string    `json:"user_name"`
	Computer string    `json:"computer"`
	Email    string    `json:"email"`
	Phone    string    `json:"phone"`
	Message  string    `json:"message"`
	Created  time.Time `json:"created"`
	LocalIP  string    `json:"local_ip"`

	ID         string    `json:"id"`          // time-ordered, assigned by the store
	Code       string    `json:"code"`        // short, read over the phone, assigned by the store
	State      State     `json:"state"`       //
	RemoteAddr string    `json:"remote_addr"` // the agent's address as the gateway saw it
	AgentKey   string    `json:"agent_key"`   // SHA256 fingerprint of the agent's key; binds resume
	Updated    time.Time `json:"updated"`
	Closed     time.Time `json:"closed,omitzero"`
	ClosedBy   string    `json:"closed_by,omitempty"`
}

// Open reports whether the request still waits for or receives help.
func (r Request) Open() bool { return r.State != StateClosed }

// User is a technician account. Admins can manage accounts and read the audit trail.
type User struct {
	Name         string    `json:"name"`
	FullName     string    `json:"full_name"`
	Keys         []string  `json:"keys"` // authorized_keys lines
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
	return c.State == CredentialIssued && now.Before(c.Expires)
}

var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)
