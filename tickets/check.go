package tickets

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Problem is one thing a store check found wrong, and where.
type Problem struct {
	Where string `json:"where"` // "page 12", "requests/0189…", "audit event 42"
	What  string `json:"what"`
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// CheckReport is what Check found: how much the store holds and every problem.
type CheckReport struct {
	Schema      uint64    `json:"schema"`
	Requests    int       `json:"requests"`
	Open        int       `json:"open"`
	Users       int       `json:"users"`
	Credentials int       `json:"credentials"`
	Events      int       `json:"events"`
	Problems    []Problem `json:"problems"`
}

// OK reports whether the check found nothing wrong.
func (r CheckReport) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds a report: a file that is damaged throughout says so in the first hundred.
const maxProblems = 100

// Add notes a problem at where; a report keeps the first hundred.
func (r *CheckReport) Add(where, format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, Problem{where, fmt.Sprintf(format, args...)})
	}
}

// Check reads the whole store: bbolt's own page check, every record decoded, every index
// entry matching its record, and the audit chain. It must not run beside writers in another
// process (bbolt's page check reads the free list); assistd checks a live gateway's store on a
// fresh backup instead.
func (s *Bolt) Check() (rep CheckReport, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		if err := walkTx(s.path, tx); err != nil { // before bbolt's check follows the pages unguarded
			rep.Add("pages", "%v", err)
			return nil
		}
		for e := range tx.Check() {
			rep.Add("pages", "%v", e)
		}
		if !rep.OK() {
			return nil // records on damaged pages could fault; the pages are the finding
		}
		v, err := readSchema(tx, s.path)
		if err != nil {
			rep.Add("meta", "%v", err)
			return nil
		}
		rep.Schema = v
		s.checkRecords(tx, &rep)
		return nil
	})
	if err != nil {
		var de *DamagedError
		if !errors.As(err, &de) {
			return rep, err
		}
		rep.Add("pages", "%s", de.Reason)
	}
	if !rep.OK() {
		return rep, nil
	}
	if err := s.VerifyEvents(); err != nil {
		var te *TamperError
		if !errors.As(err, &te) {
			return rep, err
		}
		rep.Add(fmt.Sprintf("audit event %d", te.Seq), "%s", te.Reason)
	}
	return rep, nil
}

func (s *Bolt) checkRecords(tx *bolt.Tx, rep *CheckReport) {
	reqs, codes, agents, open := tx.Bucket(bucketRequests), tx.Bucket(bucketCodes), tx.Bucket(bucketAgentKeys), tx.Bucket(bucketOpenRequests)
	reqs.ForEach(func(k, v []byte) error {
		rep.Requests++
		var r Request
		if err := decode(v, &r); err != nil {
			rep.Add(recordKey(bucketRequests, k), "%v", err)
			return nil
		}
		if r.ID != string(k) {
			rep.Add(recordKey(bucketRequests, k), "holds request %s", r.ID)
		}
		if !bytes.Equal(codes.Get([]byte(r.Code)), k) {
			rep.Add(recordKey(bucketCodes, []byte(r.Code)), "does not point at request %s", k)
		}
		if r.Open() && open.Get(k) == nil {
			rep.Add(recordKey(bucketOpenRequests, k), "missing for an open request")
		}
		if r.Open() {
			rep.Open++
			if r.AgentKey != "" && !bytes.Equal(agents.Get([]byte(r.AgentKey)), k) {
				rep.Add(recordKey(bucketAgentKeys, []byte(r.AgentKey)), "does not point at its open request %s", k)
			}
		}
		return nil
	})
	codes.ForEach(func(k, v []byte) error {
		if reqs.Get(v) == nil {
			rep.Add(recordKey(bucketCodes, k), "points at missing request %s", v)
		}
		return nil
	})
	open.ForEach(func(k, _ []byte) error {
		var r Request
		switch raw := reqs.Get(k); {
		case raw == nil:
			rep.Add(recordKey(bucketOpenRequests, k), "names a missing request")
		case decode(raw, &r) == nil && !r.Open():
			rep.Add(recordKey(bucketOpenRequests, k), "names a closed request")
		}
		return nil
	})
	agents.ForEach(func(k, v []byte) error {
		var r Request
		if err := get(reqs, v, &r); err != nil || !r.Open() {
			rep.Add(recordKey(bucketAgentKeys, k), "points at %s, which is not an open request", v)
		}
		return nil
	})
	tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
		rep.Users++
		var u User
		if err := decode(v, &u); err != nil {
			rep.Add(recordKey(bucketUsers, k), "%v", err)
		}
		return nil
	})
	creds, byReq := tx.Bucket(bucketCreds), tx.Bucket(bucketCredsByReq)
	creds.ForEach(func(k, v []byte) error {
		rep.Credentials++
		var c Credential
		if err := decode(v, &c); err != nil {
			rep.Add(recordKey(bucketCreds, k), "%v", err)
			return nil
		}
		if byReq.Get([]byte(c.RequestID+"/"+c.Fingerprint)) == nil {
			rep.Add(recordKey(bucketCredsByReq, []byte(c.RequestID+"/"+c.Fingerprint)), "missing for its credential")
		}
		return nil
	})
	byReq.ForEach(func(k, _ []byte) error {
		reqID, fp, _ := strings.Cut(string(k), "/")
		if creds.Get([]byte(fp)) == nil || reqs.Get([]byte(reqID)) == nil {
			rep.Add(recordKey(bucketCredsByReq, k), "points at a missing credential or request")
		}
		return nil
	})
	rep.Events = tx.Bucket(bucketEvents).Stats().KeyN
}

// recordKey names a record for a report: bucket/key, the key quoted when it is not printable.
func recordKey(bucket, key []byte) string {
	if len(key) == 8 && bytes.Equal(bucket, bucketEvents) {
		return fmt.Sprintf("%s/%d", bucket, be64(key))
	}
	for _, c := range key {
		if c < 0x21 || c > 0x7e {
			return fmt.Sprintf("%s/%q", bucket, key)
		}
	}
	return string(bucket) + "/" + string(key)
}

// checkPages runs bbolt's page check when the store opens, before any request reads a page;
// nothing else uses the file yet.
func checkPages(path string, db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		var first error
		for e := range tx.Check() { // drained to the end, so the check is done before the tx
			if first == nil {
				first = e
			}
		}
		if first != nil {
			return &DamagedError{path, fmt.Sprintf("damaged: %v", first)}
		}
		return nil
	})
}
