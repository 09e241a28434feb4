package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

func claimStore(t *testing.T, open Opener) (tickets.Store, tickets.Request) {
	t.Helper()
	s := fresh(t, open)
	for _, u := range []tickets.User{{Name: "alice"}, {Name: "bob"}, {Name: "root", Role: tickets.RoleAdmin}, {Name: "aud", Role: tickets.RoleAuditor}} {
		if err := s.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	filed, err := s.FileRequest(tickets.Filing{Form: tickets.Form{FullName: "Pat"}, AgentKey: "k", Actor: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	return s, filed.Request
}

func issue(s tickets.Store, code, tech string, override bool) error {
	_, err := s.IssueCredential(tickets.Issuing{CodeOrID: code, Technician: tech, Override: override,
		Fingerprint: "fp-" + tech + time.Now().String(), Issued: time.Now(), Expires: time.Now().Add(time.Hour)})
	return err
}

// testClaimAndHandOver: alice claims; bob's credential is refused naming alice; alice assigns
// to bob and his works; every step is one audit event.
func testClaimAndHandOver(t *testing.T, open Opener) {
	s, r := claimStore(t, open)
	if h, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "alice", To: "alice"}); err != nil || h.Request.Owner != "alice" || h.Events[0].Kind != "request.claimed" {
		t.Fatalf("alice claims: %+v, %v", h, err)
	}
	var ce *tickets.ClaimedError
	if err := issue(s, r.Code, "bob", false); !errors.As(err, &ce) || err.Error() != "request "+r.Code+" is claimed by alice" {
		t.Fatalf("bob's credential for alice's request: %v", err)
	}
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "bob", To: "bob"}); !errors.As(err, &ce) {
		t.Fatalf("bob claims alice's request: %v", err)
	}
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "alice", To: "aud"}); err == nil {
		t.Fatal("a request was assigned to an auditor")
	}
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "alice", To: "nobody"}); !errors.Is(err, tickets.ErrNoAccount) {
		t.Fatalf("assigned to no account: %v", err)
	}
	if h, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "alice", To: "bob"}); err != nil || h.Request.Owner != "bob" || h.Events[0].Kind != "request.assigned" {
		t.Fatalf("alice assigns to bob: %+v, %v", h, err)
	}
	if err := issue(s, r.Code, "bob", false); err != nil {
		t.Fatalf("bob's credential after the hand-over: %v", err)
	}
	if err := issue(s, r.Code, "root", true); err != nil {
		t.Fatalf("an admin's credential: %v", err)
	}
	if h, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "bob"}); err != nil || h.Request.Owner != "" || h.Events[0].Kind != "request.released" {
		t.Fatalf("bob releases: %+v, %v", h, err)
	}
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "bob"}); !errors.Is(err, tickets.ErrNotClaimed) {
		t.Fatalf("releasing twice: %v", err)
	}
	if err := issue(s, r.Code, "alice", false); err != nil { // minting claims an unclaimed request
		t.Fatal(err)
	}
	if got, _ := s.Request(r.Code); got.Owner != "alice" {
		t.Fatalf("after alice's credential the owner is %q", got.Owner)
	}
	evs, _ := s.Events(tickets.EventFilter{Request: r.Code, Kind: "request."})
	var got []string
	for _, e := range evs {
		got = append(got, e.Kind+":"+e.Actor+">"+e.Attrs["owner"])
	}
	want := "request.filed:agent> request.claimed:alice>alice request.assigned:alice>bob request.released:bob> request.claimed:alice>alice"
	if strings.Join(got, " ") != want {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

// testClaimRace: of two technicians claiming at once, exactly one wins and the other hears who.
func testClaimRace(t *testing.T, open Opener) {
	for range 10 {
		s, r := claimStore(t, open)
		errs := make([]error, 2)
		who := []string{"alice", "bob"}
		parallel(2, func(i int) {
			_, errs[i] = s.HandOver(tickets.Handover{CodeOrID: r.Code, By: who[i], To: who[i]})
		})
		got, _ := s.Request(r.Code)
		var ce *tickets.ClaimedError
		loser := map[string]int{"alice": 1, "bob": 0}[got.Owner]
		if (errs[0] == nil) == (errs[1] == nil) || errs[1-loser] != nil || !errors.As(errs[loser], &ce) || ce.Owner != got.Owner {
			t.Fatalf("owner %q, errors %v", got.Owner, errs)
		}
	}
}

// testNotes: notes are kept in order, cleaned, bounded, audited by size.
func testNotes(t *testing.T, open Opener) {
	s, r := claimStore(t, open)
	n, err := s.AddNote(tickets.Noting{CodeOrID: r.Code, By: "alice", Text: "called, \x1b[31mno answer</td>"})
	if err != nil || n.Note.Text != "called, [31mno answer</td>" || n.Events[0].Attrs["bytes"] != "26" {
		t.Fatalf("note: %+v, %v", n, err)
	}
	if _, err := s.AddNote(tickets.Noting{CodeOrID: r.Code, By: "alice", Text: strings.Repeat("x", tickets.MaxNoteLen+1)}); err == nil {
		t.Error("a note over the bound was kept")
	}
	if _, err := s.AddNote(tickets.Noting{CodeOrID: r.Code, By: "bob", Text: "second"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Request(r.Code)
	if len(got.Notes) != 2 || got.Notes[0].By != "alice" || got.Notes[1].Text != "second" {
		t.Fatalf("notes %+v", got.Notes)
	}
}

// testAdminsOpenClaimedRequests: an admin's account mints a credential for a request another
// technician claimed, read from the account in the same transaction; others do not.
func testAdminsOpenClaimedRequests(t *testing.T, open Opener) {
	s, r := claimStore(t, open)
	if err := issue(s, r.Code, "alice", false); err != nil {
		t.Fatalf("alice's first credential: %v", err)
	}
	if err := issue(s, r.Code, "root", false); err != nil {
		t.Fatalf("the admin's credential for alice's request: %v", err)
	}
	var ce *tickets.ClaimedError
	for _, who := range []string{"bob", "aud", "nobody"} {
		if err := issue(s, r.Code, who, false); !errors.As(err, &ce) || ce.Owner != "alice" {
			t.Errorf("%s's credential for alice's request: %v, want claimed by alice", who, err)
		}
	}
}

func testUsers(t *testing.T, open Opener) {
	s := fresh(t, open)
	alice := tickets.User{Name: "alice", FullName: "Alice A.", Keys: []string{"ssh-ed25519 AAAA a"}, Admin: true}
	if err := s.AddUser(alice); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(tickets.User{Name: "bob", FullName: "Bob"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(tickets.User{Name: "alice", FullName: "Impostor"}); !errors.Is(err, tickets.ErrExists) {
		t.Errorf("duplicate AddUser = %v, want ErrExists", err)
	}
	got, err := s.User("alice")
	if err != nil || got.FullName != "Alice A." || got.AccountRole() != tickets.RoleAdmin || got.Role != tickets.RoleAdmin || got.Created.IsZero() {
		t.Errorf("User(alice) = %+v, %v", got, err)
	}
	updated, err := s.UpdateUser("alice", func(u *tickets.User) error {
		u.Keys = append(u.Keys, "ssh-ed25519 BBBB a2")
		u.Name = "mallory" // the name is the key: it cannot change
		return nil
	})
	if err != nil || updated.Name != "alice" || len(updated.Keys) != 2 {
		t.Errorf("UpdateUser = %+v, %v", updated, err)
	}
	if _, err := s.User("mallory"); !errors.Is(err, tickets.ErrNoAccount) || !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("UpdateUser renamed the account: %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateUser("alice", func(u *tickets.User) error { u.FullName = "x"; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateUser with failing fn = %v", err)
	}
	if got, _ := s.User("alice"); got.FullName != "Alice A." {
		t.Error("failed UpdateUser changed the account")
	}
	if _, err := s.UpdateUser("nobody", func(*tickets.User) error { return nil }); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("UpdateUser(nobody) = %v, want ErrNotFound", err)
	}
	users, err := s.Users()
	if err != nil || len(users) != 2 || users[0].Name != "alice" || users[1].Name != "bob" {
		t.Errorf("Users() = %+v, %v; want alice, bob", users, err)
	}
	if err := s.RemoveUser("bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser("bob"); !errors.Is(err, tickets.ErrNoAccount) {
		t.Errorf("second RemoveUser = %v, want ErrNotFound", err)
	}
	if users, _ := s.Users(); len(users) != 1 {
		t.Errorf("Users() after remove = %+v", users)
	}
}

// testAdminsHandOverClaimedRequests: an admin's account assigns and releases a request another
// technician claimed, read from the account in the transaction; a technician's cannot.
func testAdminsHandOverClaimedRequests(t *testing.T, open Opener) {
	s, r := claimStore(t, open)
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "alice", To: "alice"}); err != nil {
		t.Fatal(err)
	}
	var ce *tickets.ClaimedError
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "bob"}); !errors.As(err, &ce) || ce.Owner != "alice" {
		t.Fatalf("bob releases alice's request: %v", err)
	}
	if h, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "root", To: "bob"}); err != nil || h.Request.Owner != "bob" {
		t.Fatalf("the admin assigns alice's request to bob: %+v, %v", h, err)
	}
	if h, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "root"}); err != nil || h.Request.Owner != "" {
		t.Fatalf("the admin releases bob's request: %+v, %v", h, err)
	}
}

// testListAfterRelease: the open list, read before and after a release, shows no owner after
// it (a cached request decoded over would keep the omitted owner).
func testListAfterRelease(t *testing.T, open Opener) {
	s, r := claimStore(t, open)
	owner := func() string {
		page, err := s.Requests(tickets.RequestQuery{})
		if err != nil || len(page.Requests) != 1 {
			t.Fatalf("list: %+v, %v", page, err)
		}
		return page.Requests[0].Owner
	}
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "alice", To: "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != "alice" {
		t.Fatalf("owner after the claim %q", got)
	}
	if _, err := s.HandOver(tickets.Handover{CodeOrID: r.Code, By: "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != "" {
		t.Fatalf("owner after the release %q, want none", got)
	}
}
