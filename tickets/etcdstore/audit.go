package etcdstore

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/assistkit/assist/tickets"
)

// The audit trail is one chain for the whole cluster, ordered by a compare-and-swap on its head
// (docs/etcd.md): every transaction that appends reads meta/audit_head, writes its events at
// seq+1, seq+2, … with the hash of the one before, and moves the head and its seal. Two
// gateways appending at once both read the same head; etcd commits one transaction, the other
// one's comparison fails and it runs again on the new head. So sequence numbers have no gaps and
// VerifyEvents is bbolt's.

func (s *Store) AppendEvent(e tickets.Event) (tickets.Event, error) {
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	var out tickets.Event
	err := s.update(func(t *txn) (err error) {
		out, err = s.appendEvent(t, e)
		return err
	})
	if err != nil {
		return tickets.Event{}, fmt.Errorf("append audit event: %w", err)
	}
	return out, nil
}

func (s *Store) appendEvent(t *txn, e tickets.Event) (tickets.Event, error) {
	seq, prev, err := decodeHead([]byte(t.raw(keyAuditHead)))
	if err != nil {
		return tickets.Event{}, err
	}
	e.Seq, e.Prev = seq+1, prev
	e.Hash = tickets.ChainHash(s.key, e)
	if err := t.put(eventKey(e.Seq), e); err != nil {
		return tickets.Event{}, err
	}
	head := encodeHead(e.Seq, e.Hash)
	t.putRaw(keyAuditHead, string(head))
	t.putRaw(keyAuditSeal, tickets.AuditSeal(s.key, head))
	return e, nil
}

// record appends events inside t and adds them to out.
func (s *Store) record(t *txn, out *[]tickets.Event, events ...tickets.Event) error {
	for _, e := range events {
		if e.Time.IsZero() {
			e.Time = s.now().UTC()
		}
		e, err := s.appendEvent(t, e)
		if err != nil {
			return err
		}
		*out = append(*out, e)
	}
	return nil
}

func (s *Store) Events(f tickets.EventFilter) ([]tickets.Event, error) {
	var out []tickets.Event
	var skipped tickets.SkippedError
	err := s.eachAt(pfxEvents, 0, func(k string, v []byte) error {
		var e tickets.Event
		if err := tickets.DecodeValue(v, &e); err != nil {
			skipped.Records = append(skipped.Records, tickets.SkippedRecord{Key: k, Reason: err.Error()})
			return nil
		}
		if f.Match(e) {
			out = append(out, e)
		}
		return nil
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	if err == nil && len(skipped.Records) > 0 {
		err = &skipped
	}
	return out, err
}

// VerifyEvents walks the chain as bbolt's store does, at one revision: the head and its seal
// are read first, and the events at the revision of that read.
func (s *Store) VerifyEvents() error {
	ctx, cancel := s.opContext()
	defer cancel()
	resp, err := s.cli.Txn(ctx).Then(opGet(s.k(keyAuditHead)), opGet(s.k(keyAuditSeal))).Commit()
	if err != nil {
		return s.unavailable(err)
	}
	rev := resp.Header.Revision
	head, seal := value(resp, 0), value(resp, 1)
	var prev string
	var seq uint64
	err = s.eachAt(pfxEvents, rev, func(k string, v []byte) error {
		seq++
		var e tickets.Event
		if err := tickets.DecodeValue(v, &e); err != nil {
			return &tickets.TamperError{Seq: seq, Reason: "cannot be decoded: " + err.Error()}
		}
		got, err := parseEventKey(k)
		switch {
		case err != nil:
			return &tickets.TamperError{Seq: seq, Reason: err.Error()}
		case got != seq:
			return &tickets.TamperError{Seq: seq, Reason: fmt.Sprintf("missing (next stored event is %d)", got)}
		case e.Seq != seq:
			return &tickets.TamperError{Seq: seq, Reason: fmt.Sprintf("records sequence number %d", e.Seq)}
		case e.Prev != prev:
			return &tickets.TamperError{Seq: seq, Reason: "does not follow the event before it (an event was removed or replaced)"}
		case !tickets.HMACEqual(e.Hash, tickets.ChainHash(s.key, e)):
			return &tickets.TamperError{Seq: seq, Reason: "content was edited (hash mismatch)"}
		}
		prev = e.Hash
		return nil
	})
	if err != nil {
		return err
	}
	headSeq, headHash, err := decodeHead(head)
	if err != nil {
		return &tickets.TamperError{Seq: seq + 1, Reason: err.Error()}
	}
	if headSeq != seq || headHash != prev {
		return &tickets.TamperError{Seq: seq + 1, Reason: fmt.Sprintf("the trail ends at event %d but the store recorded %d events (events were removed from the end)", seq, headSeq)}
	}
	if (head != nil || seal != nil) && !tickets.HMACEqual(string(seal), tickets.AuditSeal(s.key, head)) {
		return &tickets.TamperError{Seq: seq + 1, Reason: fmt.Sprintf("the record of where the trail ends (event %d) was rewritten without the audit key (events after it were removed)", seq)}
	}
	return nil
}

func opGet(key string) clientv3.Op { return clientv3.OpGet(key) }

// value is the value of the i-th get of a transaction's response; nil when there is none.
func value(resp *clientv3.TxnResponse, i int) []byte {
	if kvs := resp.Responses[i].GetResponseRange().Kvs; len(kvs) > 0 {
		return kvs[0].Value
	}
	return nil
}
