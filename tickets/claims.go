package tickets

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A request may be claimed by one technician: then only they (or an admin) mint its .otc, and
// minting one for an unclaimed request claims it. Its owner hands it over (assign) or lets it
// go (release). Notes are kept with the request, timestamped, by technician.

// Note is a technician's note on a request.
type Note struct {
	Time time.Time `json:"time"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// Bounds of notes.
const (
	MaxNoteLen = 2000
	MaxNotes   = 200
)

// ClaimedError is a request that another technician owns.
type ClaimedError struct {
	Code, Owner string
}

func (e *ClaimedError) Error() string { return "request " + e.Code + " is claimed by " + e.Owner }

// ErrNotClaimed is a release of a request nobody owns.
var ErrNotClaimed = errors.New("not claimed")

// Handover is a request being claimed (To is By), assigned (To another account) or released
// (To empty).
type Handover struct {
	CodeOrID string
	By       string
	To       string
	// Override lets By take or hand over a request another owns; an admin's account always may
	// (read in the transaction, like IssueCredential's).
	Override bool
}

// Handed is what HandOver did.
type Handed struct {
	Request Request
	Events  []Event
}

// Noting is a note being added to a request.
type Noting struct {
	CodeOrID string
	By       string
	Text     string // cleaned and bounded by AddNote
}

// Noted is what AddNote did.
type Noted struct {
	Request Request
	Note    Note
	Events  []Event
}

// HandOver claims, assigns or releases an open request: one transaction, so of two technicians
// claiming at once exactly one wins and the other hears who did (a *ClaimedError).
func (s *Bolt) HandOver(h Handover) (Handed, error) {
	var out Handed
	err := s.update(func(tx *bolt.Tx) error {
		out = Handed{}
		r, err := openRequest(tx, h.CodeOrID)
		if err != nil {
			return err
		}
		if err := claimedByAnother(r, h.By, h.Override || isAdmin(tx, h.By)); err != nil {
			return err
		}
		kind := "request.claimed"
		switch {
		case h.To == "":
			if r.Owner == "" {
				return fmt.Errorf("request %s is %w", r.Code, ErrNotClaimed)
			}
			kind = "request.released"
		case h.To != h.By:
			kind = "request.assigned"
			if err := mayOwn(tx, h.To); err != nil {
				return err
			}
		}
		previous := r.Owner
		if previous == h.To {
			out.Request = r // already so: nothing to record
			return nil
		}
		r.Owner, r.Updated = h.To, s.now().UTC()
		if err := put(tx.Bucket(bucketRequests), []byte(r.ID), r); err != nil {
			return err
		}
		out.Request = r
		return s.record(tx, &out.Events, Event{Kind: kind, Actor: h.By, Request: r.Code,
			Attrs: map[string]string{"owner": h.To, "previous": previous}})
	})
	return out, err
}

// mayOwn checks that name is an account that may work on requests.
func mayOwn(tx *bolt.Tx, name string) error {
	var u User
	if err := getUser(tx.Bucket(bucketUsers), name, &u); err != nil {
		return err
	}
	return MayOwn(u)
}

// AddNote adds a note to a request, open or closed.
func (s *Bolt) AddNote(n Noting) (Noted, error) {
	text, err := NoteText(n.Text)
	if err != nil {
		return Noted{}, err
	}
	var out Noted
	err = s.update(func(tx *bolt.Tx) error {
		out = Noted{}
		id, err := requestID(tx, n.CodeOrID)
		if err != nil {
			return err
		}
		r, err := getRequest(tx, id)
		if err != nil {
			return err
		}
		if len(r.Notes) >= MaxNotes {
			return fmt.Errorf("request %s has %d notes, the most it keeps", r.Code, MaxNotes)
		}
		note := Note{Time: s.now().UTC(), By: n.By, Text: text}
		r.Notes = append(r.Notes, note)
		r.Updated = note.Time
		if err := put(tx.Bucket(bucketRequests), id, r); err != nil {
			return err
		}
		out.Request, out.Note = r, note
		return s.record(tx, &out.Events, Event{Kind: "request.noted", Actor: n.By, Request: r.Code,
			Attrs: map[string]string{"bytes": strconv.Itoa(len(text))}})
	})
	return out, err
}

// openRequest reads the open request codeOrID in tx; a closed one is an error wrapping ErrClosed.
func openRequest(tx *bolt.Tx, codeOrID string) (Request, error) {
	id, err := requestID(tx, codeOrID)
	if err != nil {
		return Request{}, err
	}
	r, err := getRequest(tx, id)
	if err != nil {
		return Request{}, err
	}
	if !r.Open() {
		return Request{}, fmt.Errorf("request %s is %w", r.Code, ErrClosed)
	}
	return r, nil
}

// claimedByAnother is a *ClaimedError when r belongs to someone other than who and override
// does not let who past that.
func claimedByAnother(r Request, who string, override bool) error {
	if r.Owner != "" && r.Owner != who && !override {
		return &ClaimedError{Code: r.Code, Owner: r.Owner}
	}
	return nil
}
