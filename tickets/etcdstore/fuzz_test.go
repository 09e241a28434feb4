package etcdstore

import (
	"bytes"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// The decoders of what the store reads back from etcd, which anyone with write access to the
// cluster can set to anything: none may panic, and what they accept round-trips.

func FuzzDecodeHead(f *testing.F) {
	f.Add(encodeHead(1, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))
	f.Add(encodeHead(1<<40, "x"))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, v []byte) {
		seq, hash, err := decodeHead(v)
		if err == nil && len(v) > 0 && !bytes.Equal(encodeHead(seq, hash), v) {
			t.Fatalf("%x decoded as %d %q, which encodes differently", v, seq, hash)
		}
	})
}

func FuzzDecodeSchemaVersion(f *testing.F) {
	for _, s := range []string{version(schemaVersion()), "1", "0", "", "01", "18446744073709551616", "-1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		n, err := decodeSchemaVersion(v)
		if err == nil && version(n) != string(v) {
			t.Fatalf("%q decoded as %d, which encodes as %q", v, n, version(n))
		}
	})
}

func FuzzParseEventKey(f *testing.F) {
	f.Add(eventKey(1))
	f.Add(eventKey(1 << 63))
	f.Add(pfxEvents + "zz")
	f.Add(pfxEvents + "+00000000000000f")
	f.Fuzz(func(t *testing.T, k string) {
		if len(k) < len(pfxEvents) || k[:len(pfxEvents)] != pfxEvents {
			return // the store only asks about keys it listed under events/
		}
		seq, err := parseEventKey(k)
		if err == nil && eventKey(seq) != k {
			t.Fatalf("%q parsed as %d, which is key %q", k, seq, eventKey(seq))
		}
	})
}

// FuzzDecodeRecord decodes a value as each record the store keeps.
func FuzzDecodeRecord(f *testing.F) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, v := range []any{
		tickets.Request{Form: tickets.Form{FullName: "Pat"}, ID: tickets.NewRequestID(now), Code: "K7QH-4ZPD", State: tickets.StateWaiting, Created: now},
		tickets.User{Name: "alice", Role: tickets.RoleAdmin, Keys: []string{"ssh-ed25519 AAAA"}},
		tickets.Credential{ID: "c", Fingerprint: "SHA256:x", State: tickets.CredentialIssued, Expires: now},
		tickets.Event{Seq: 1, Kind: "request.filed", Attrs: map[string]string{"a": "b"}, Hash: "h"},
		credList{Fingerprints: []string{"SHA256:a", "SHA256:b"}},
	} {
		raw, err := tickets.EncodeValue(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{2, '{', '}'})
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, v := range []any{&tickets.Request{}, &tickets.User{}, &tickets.Credential{}, &tickets.Event{}, &credList{}} {
			_ = tickets.DecodeValue(raw, v)
		}
	})
}
