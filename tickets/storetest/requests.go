package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

func testFindBySpelling(t *testing.T, open Opener) {
	s := fresh(t, open)
	r := file(t, s, "Ada Lovelace", "SHA256:agent-a")
	if r.ID == "" || r.State != tickets.StateWaiting || r.Created.IsZero() || !r.Updated.Equal(r.Created) {
		t.Fatalf("FileRequest did not assign ID, state and times: %+v", r)
	}
	plain := strings.ReplaceAll(r.Code, "-", "")
	for _, spelling := range []string{r.Code, strings.ToLower(r.Code), plain, plain[:4] + " " + plain[4:], r.ID} {
		got, err := s.Request(spelling)
		if err != nil || got.ID != r.ID || got.FullName != "Ada Lovelace" {
			t.Errorf("Request(%q) = %+v, %v; want the request just filed", spelling, got, err)
		}
	}
}

func testNotFound(t *testing.T, open Opener) {
	s := fresh(t, open)
	file(t, s, "Ada", "")
	for _, q := range []string{"ZZZZ-ZZZZ", "0123456789abcdef01234567", "", "no such thing", "../users/alice"} {
		if _, err := s.Request(q); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("Request(%q) = %v, want ErrNotFound", q, err)
		}
		if _, err := s.CloseRequest(tickets.Closing{CodeOrID: q}); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("CloseRequest(%q) = %v, want ErrNotFound", q, err)
		}
	}
	if _, err := s.Credential("SHA256:none"); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("Credential(none) = %v", err)
	}
	if _, err := s.ClaimCredential("SHA256:none", time.Now()); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("ClaimCredential(none) = %v", err)
	}
}

func kinds(events []tickets.Event) string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return strings.Join(out, ",")
}

// testLifecycle walks one request through the use cases: each step changes the records and
// appends its events in the same transaction.
func testLifecycle(t *testing.T, open Opener) {
	s := fresh(t, open)
	f := tickets.Filing{Form: sampleForm("Ada"), AgentKey: "SHA256:agent-a", Remote: "192.0.2.10:5000", Actor: "agent:SHA256:agent-a"}
	if _, err := s.ResumeRequest(f); !errors.Is(err, tickets.ErrNotFound) {
		t.Fatalf("resume before filing: %v, want ErrNotFound", err)
	}
	filed, err := s.FileRequest(f)
	if err != nil || filed.Resumed || kinds(filed.Events) != "request.filed" || filed.Request.State != tickets.StateWaiting {
		t.Fatalf("file: %+v, %v", filed, err)
	}
	f.Remote = "192.0.2.10:6000"
	again, err := s.FileRequest(f) // the same agent filing again binds to its open request
	if err != nil || !again.Resumed || again.Request.ID != filed.Request.ID || again.Request.RemoteAddr != f.Remote || kinds(again.Events) != "request.resumed" {
		t.Fatalf("file again: %+v, %v", again, err)
	}
	if resumed, err := s.ResumeRequest(f); err != nil || resumed.Request.ID != filed.Request.ID {
		t.Fatalf("resume: %+v, %v", resumed, err)
	}
	code := filed.Request.Code

	now := time.Now()
	var fps []string
	for i := range 3 {
		fp := fmt.Sprintf("SHA256:cred-%d", i)
		issued, err := s.IssueCredential(tickets.Issuing{CodeOrID: code, Technician: "alice", Fingerprint: fp, Issued: now, Expires: now.Add(time.Hour)})
		want := "credential.issued"
		if i == 0 {
			want = "request.claimed,credential.issued" // minting claims the request
		}
		if err != nil || kinds(issued.Events) != want {
			t.Fatalf("issue: %+v, %v", issued, err)
		}
		fps = append(fps, fp)
	}
	if _, err := s.IssueCredential(tickets.Issuing{CodeOrID: code, Technician: "alice", Fingerprint: fps[0], Issued: now, Expires: now.Add(time.Hour)}); !errors.Is(err, tickets.ErrExists) {
		t.Errorf("issuing a fingerprint twice: %v", err)
	}
	if creds, err := s.CredentialsForRequest(filed.Request.ID); err != nil || len(creds) != 3 {
		t.Errorf("CredentialsForRequest: %d, %v", len(creds), err)
	}
	if _, err := s.ClaimCredential(fps[2], now.Add(2*time.Hour)); err == nil || err.Error() != "credential expired" {
		t.Errorf("claim after expiry: %v", err)
	}
	claimed, err := s.ClaimCredential(fps[0], now)
	if err != nil || claimed.Credential.State != tickets.CredentialActive || kinds(claimed.Events) != "credential.used" {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	if r, _ := s.Request(code); r.State != tickets.StateActive {
		t.Errorf("request during a session: %s, want active", r.State)
	}
	if _, err := s.ClaimCredential(fps[0], now); err == nil || err.Error() != "credential already used" {
		t.Errorf("second claim: %v", err)
	}
	ended, err := s.EndSession(tickets.SessionEnd{Fingerprint: fps[0], Cause: "the technician disconnected", State: tickets.CredentialSpent})
	if err != nil || ended.Credential.State != tickets.CredentialSpent || kinds(ended.Events) != "session.ended,credential.spent" {
		t.Fatalf("end session: %+v, %v", ended, err)
	}
	if r, _ := s.Request(code); r.State != tickets.StateWaiting {
		t.Errorf("request after the session: %s, want waiting", r.State)
	}
	if _, err := s.ClaimCredential(fps[1], now); err != nil {
		t.Fatal(err)
	}

	closed, err := s.CloseRequest(tickets.Closing{CodeOrID: code, By: "bob"})
	if err != nil || closed.Request.State != tickets.StateClosed || closed.Request.ClosedBy != "bob" {
		t.Fatalf("close: %+v, %v", closed, err)
	}
	if got := kinds(closed.Events); got != "request.closed,credential.revoked,credential.revoked" || len(closed.Revoked) != 2 {
		t.Errorf("close events %s, revoked %d; want the closing and the two credentials that could log in", got, len(closed.Revoked))
	}
	for _, fp := range fps[1:] {
		if c, _ := s.Credential(fp); c.State != tickets.CredentialRevoked {
			t.Errorf("credential %s after close: %s", fp, c.State)
		}
	}
	if _, err := s.CloseRequest(tickets.Closing{CodeOrID: code, By: "bob"}); !errors.Is(err, tickets.ErrClosed) || !strings.Contains(err.Error(), "already closed") {
		t.Errorf("closing twice: %v", err)
	}
	if _, err := s.IssueCredential(tickets.Issuing{CodeOrID: code, Technician: "alice", Fingerprint: "SHA256:late", Issued: now, Expires: now.Add(time.Hour)}); !errors.Is(err, tickets.ErrClosed) {
		t.Errorf("issue on a closed request: %v", err)
	}
	if _, err := s.ResumeRequest(f); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("resume of a closed request: %v", err)
	}
	if refiled, err := s.FileRequest(f); err != nil || refiled.Resumed || refiled.Request.ID == filed.Request.ID {
		t.Errorf("filing after the close: %+v, %v; want a new request", refiled, err)
	}
	verify(t, s)
}

// testEndStaleSessions: a session whose gateway stopped is spent when a gateway starts, and its
// request waits again.
func testEndStaleSessions(t *testing.T, open Opener) {
	s, another := open(t, NewClock().Now)
	r := file(t, s, "Ada", "SHA256:a")
	now := time.Now()
	if _, err := s.IssueCredential(tickets.Issuing{CodeOrID: r.Code, Fingerprint: "SHA256:c", Issued: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimCredential("SHA256:c", now); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = another()
	if n, err := s.EndStaleSessions(); n != 1 || err != nil {
		t.Fatalf("EndStaleSessions = %d, %v", n, err)
	}
	c, _ := s.Credential("SHA256:c")
	got, _ := s.Request(r.Code)
	if c.State != tickets.CredentialSpent || got.State != tickets.StateWaiting {
		t.Errorf("after a restart: credential %s, request %s", c.State, got.State)
	}
}

func testRequestPages(t *testing.T, open Opener) {
	s := fresh(t, open) // the clock moves a second at each reading
	var made []tickets.Request
	for i := range 7 {
		made = append(made, file(t, s, fmt.Sprintf("p%d", i), ""))
	}
	for _, i := range []int{1, 4, 5} {
		closeReq(t, s, made[i].Code)
	}
	pages := func(q tickets.RequestQuery) string {
		var out []string
		for {
			p, err := s.Requests(q)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range p.Requests {
				names = append(names, r.FullName)
			}
			out = append(out, strings.Join(names, ","))
			if p.Next == "" {
				return strings.Join(out, " | ")
			}
			q.After = p.Next
		}
	}
	for _, tt := range []struct {
		q    tickets.RequestQuery
		want string
	}{
		{tickets.RequestQuery{}, "p6,p3,p2,p0"},
		{tickets.RequestQuery{Limit: 2}, "p6,p3 | p2,p0"},
		{tickets.RequestQuery{Limit: 3}, "p6,p3,p2 | p0"},
		{tickets.RequestQuery{Closed: true}, "p6,p5,p4,p3,p2,p1,p0"},
		{tickets.RequestQuery{Closed: true, Limit: 3}, "p6,p5,p4 | p3,p2,p1 | p0"},
		{tickets.RequestQuery{Closed: true, Since: made[4].Created}, "p6,p5,p4"},
		{tickets.RequestQuery{Since: made[2].Created, Limit: 1}, "p6 | p3 | p2"},
		{tickets.RequestQuery{After: made[3].ID}, "p2,p0"},
		{tickets.RequestQuery{Closed: true, Since: made[6].Created.Add(time.Hour)}, ""},
	} {
		if got := pages(tt.q); got != tt.want {
			t.Errorf("Requests(%+v) pages = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// testConcurrentFailuresKeptApart: among writes at once, the ones that fail get their own error
// and change nothing; the others are all kept.
func testConcurrentFailuresKeptApart(t *testing.T, open Opener) {
	s := fresh(t, open)
	r := file(t, s, "closed early", "")
	closeReq(t, s, r.Code)
	errs := make([]error, 60)
	parallel(len(errs), func(i int) {
		if i%10 == 0 {
			_, errs[i] = s.CloseRequest(tickets.Closing{CodeOrID: r.Code, By: "alice"})
			return
		}
		_, errs[i] = s.FileRequest(tickets.Filing{Form: sampleForm(fmt.Sprint("p", i)), AgentKey: fmt.Sprint("SHA256:", i)})
	})
	for i, err := range errs {
		if (i%10 == 0) != errors.Is(err, tickets.ErrClosed) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	page, _ := s.Requests(tickets.RequestQuery{})
	if len(page.Requests) != 54 {
		t.Errorf("%d open requests, want 54", len(page.Requests))
	}
	verify(t, s)
}
