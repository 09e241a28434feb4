package tickets

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one entry of the audit trail. Events form a chain: each carries the hash of the one
// before, keyed with a secret kept beside the store, so an edit, a removal or an insertion shows.
type Event struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Kind    string            `json:"kind"`              // e.g. auth.accepted, request.filed, sftp.open
	Actor   string            `json:"actor,omitempty"`   // technician, "agent:SHA256:…", "otc:ID"
	Request string            `json:"request,omitempty"` // request code
	Remote  string            `json:"remote,omitempty"`  // peer address
	Attrs   map[string]string `json:"attrs,omitempty"`
	Prev    string            `json:"prev"`
	Hash    string            `json:"hash"`
}

// EventFilter selects audit events. Zero values select everything.
type EventFilter struct {
	Since   time.Time
	Request string
	Kind    string // prefix, e.g. "sftp."
	Limit   int    // the most recent Limit events; 0 means all
}

// Match reports whether e passes the filter (Limit aside).
func (f EventFilter) Match(e Event) bool {
	return (f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Request == "" || e.Request == f.Request) &&
		(f.Kind == "" || len(e.Kind) >= len(f.Kind) && e.Kind[:len(f.Kind)] == f.Kind)
}

// TamperError names the first event where the chain breaks.
type TamperError struct {
	Seq    uint64
	Reason string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit trail tampered at event %d: %s", e.Seq, e.Reason)
}

// chainHash is HMAC-SHA256(key, prev ‖ canonical JSON of e without its hash).
func chainHash(key []byte, e Event) string {
	e.Hash = ""
	body, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("tickets: marshal event: %v", err)) // plain struct: cannot fail
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(e.Prev))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// auditSeal is HMAC-SHA256(key, label ‖ head). The head alone names the last event's hash, which
// anyone who can edit the file can copy from the event before it: removing the last events and
// rewinding the head would go unnoticed. The seal can only be recomputed with the key.
func auditSeal(key, head []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("assist audit head\x00"))
	m.Write(head)
	return hex.EncodeToString(m.Sum(nil))
}
