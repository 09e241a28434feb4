package etcdstore

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Every key the store keeps, below its prefix, in one place (as tickets/schema.go for bbolt).
// Values are tickets.EncodeValue records unless a line says otherwise.
const (
	keySchemaVersion = "meta/schema_version" // decimal version of the layout below
	keyAuditHead     = "meta/audit_head"     // big-endian seq ‖ hash of the last event, as in bbolt
	keyAuditSeal     = "meta/audit_seal"     // tickets.AuditSeal of audit_head

	pfxRequests  = "requests/"      // id → request
	pfxOpen      = "open/"          // id of every open request → the id
	pfxCodes     = "codes/"         // code → id
	pfxAgents    = "agents/"        // agent key fingerprint → id of its open request
	pfxUsers     = "users/"         // name → user
	pfxCreds     = "credentials/"   // key fingerprint → credential
	pfxCredsByRq = "request_creds/" // request id → fingerprints of its credentials (credList)
	pfxCredLive  = "may_start/"     // fingerprint of an issued credential → its ID; under a lease of its validity (clock.go)
	pfxEvents    = "events/"        // 16 hex digits of seq → event
	pfxGateways  = "gateways/"      // gateway name → gatewayRecord; under the gateway's lease
	pfxPresence  = "presence/"      // request id → name of the gateway holding its agent; under that gateway's lease
	pfxSessions  = "sessions/"      // credential fingerprint → name of the gateway holding its session; under its lease
)

// credList is the value of request_creds/: one key, so that a transaction reads a request's
// credentials with one Get (etcd's transactions compare single keys, not ranges).
type credList struct {
	Fingerprints []string `json:"fingerprints"`
}

func eventKey(seq uint64) string { return fmt.Sprintf("%s%016x", pfxEvents, seq) }

// parseEventKey reads the seq of an events/ key (below the prefix).
func parseEventKey(k string) (uint64, error) {
	hex := k[len(pfxEvents):]
	// Only the form eventKey writes: a key that reads as the same number in another spelling
	// (upper case, a sign) is not one of the trail's, and must not pass as one.
	if len(hex) != 16 || strings.Trim(hex, "0123456789abcdef") != "" {
		return 0, fmt.Errorf("event key %q: want 16 lower-case hex digits", k)
	}
	return strconv.ParseUint(hex, 16, 64)
}

// auditHead is keyAuditHead's value: seq ‖ hash, the layout bbolt's store uses.
func encodeHead(seq uint64, hash string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, seq), hash...)
}

// decodeHead reads keyAuditHead's value; an empty value is an empty trail.
func decodeHead(v []byte) (seq uint64, hash string, err error) {
	switch {
	case len(v) == 0:
		return 0, "", nil
	case len(v) <= 8:
		return 0, "", fmt.Errorf("audit head: %d bytes, want seq and hash", len(v))
	}
	return binary.BigEndian.Uint64(v[:8]), string(v[8:]), nil
}

// decodeSchemaVersion reads keySchemaVersion's value.
func decodeSchemaVersion(v []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil || n == 0 || len(v) > 20 || v[0] == '0' {
		return 0, fmt.Errorf("schema version %q: not a version", truncate(string(v), 24))
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
