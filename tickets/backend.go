package tickets

import (
	"errors"
	"fmt"
	"time"
)

// What another Store implementation (tickets/etcdstore) needs to make the same records, codes,
// audit chain and refusals as Bolt: the rules stay here, each backend only keeps the bytes.

// ErrUnavailable is a store that cannot be reached now (an etcd cluster without quorum): the
// operation did not happen, and the same call may succeed later.
var ErrUnavailable = errors.New("store unavailable")

// NewRequestID returns a time-ordered ID for a request or credential made at now.
func NewRequestID(now time.Time) string { return newID(now) }

// IDPrefix is the first ID that NewRequestID can make at t or later: where a Since starts.
func IDPrefix(t time.Time) string { return idPrefix(t) }

// NewCode returns a random request code such as K7QH-4ZPD; the store makes sure it is unique.
func NewCode() string { return newCode() }

// ChainHash is the hash an event carries in the audit chain: HMAC-SHA256(key, prev ‖ the event
// without its hash).
func ChainHash(key []byte, e Event) string { return chainHash(key, e) }

// AuditSeal seals the record of the chain's head (seq ‖ hash of the last event) with the key.
func AuditSeal(key, head []byte) string { return auditSeal(key, head) }

// HMACEqual compares two hashes in constant time.
func HMACEqual(a, b string) bool { return hmacEqual(a, b) }

// EncodeValue is a record as every store keeps it: the encoding version, then JSON.
func EncodeValue(v any) ([]byte, error) {
	return encodeValue(v)
}

// DecodeValue reads a record that EncodeValue wrote, refusing an unknown encoding version.
func DecodeValue(raw []byte, v any) error { return decode(raw, v) }

// StoredUser is the account as a store keeps it: Role set, and Admin from it.
func StoredUser(u User) User { return u.withRole() }

// ClaimedByAnother is a *ClaimedError when r belongs to someone other than who and override
// does not let who past that.
func ClaimedByAnother(r Request, who string, override bool) error {
	return claimedByAnother(r, who, override)
}

// MayOwn checks that the account u may be handed requests.
func MayOwn(u User) error {
	if !u.AccountRole().May(Connect) {
		return fmt.Errorf("user %s is an %s and cannot take requests", u.Name, u.AccountRole())
	}
	return nil
}

// NoteText cleans and bounds a note's text as AddNote keeps it.
func NoteText(text string) (string, error) {
	text = cleanText(text)
	switch {
	case text == "":
		return "", errors.New("note: no text")
	case len(text) > MaxNoteLen:
		return "", fmt.Errorf("note: %d bytes, at most %d allowed", len(text), MaxNoteLen)
	}
	return text, nil
}

// FilingEvent is the audit event of a filing or a resume (kind request.filed or request.resumed).
func FilingEvent(kind string, r Request, f Filing) Event { return filingEvent(kind, r, f) }

// Truncate shortens s to n bytes for an error message, marking the cut.
func Truncate(s string, n int) string { return truncate(s, n) }
