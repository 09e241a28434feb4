package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// Two gateways on one store: the use cases that must have one winner have one, whichever
// gateway asks.

// testTwoGatewaysFileOneAgent: an agent that reaches two gateways at once (a reconnect racing
// the old connection) files one request; the other filing resumes it.
func testTwoGatewaysFileOneAgent(t *testing.T, open Opener) {
	a, another := open(t, NewClock().Now)
	b := another()
	for round := range 10 {
		key := fmt.Sprintf("SHA256:agent-%d", round)
		filed := make([]tickets.Filed, 2)
		errs := make([]error, 2)
		parallel(2, func(i int) {
			filed[i], errs[i] = []tickets.Store{a, b}[i].FileRequest(tickets.Filing{Form: sampleForm("Ada"), AgentKey: key, Actor: "agent:" + key})
		})
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("filings: %v", errs)
		}
		if filed[0].Request.ID != filed[1].Request.ID || filed[0].Resumed == filed[1].Resumed {
			t.Fatalf("round %d: requests %s (resumed %v) and %s (resumed %v); want one request, filed once and resumed once",
				round, filed[0].Request.ID, filed[0].Resumed, filed[1].Request.ID, filed[1].Resumed)
		}
	}
	page, err := a.Requests(tickets.RequestQuery{})
	if err != nil || len(page.Requests) != 10 {
		t.Fatalf("%d open requests, %v; want 10", len(page.Requests), err)
	}
	verify(t, a)
}

// testTwoGatewaysClaimOneCredential: a one-time credential tried on two gateways at once starts
// one session: exactly one claim wins.
func testTwoGatewaysClaimOneCredential(t *testing.T, open Opener) {
	a, another := open(t, NewClock().Now)
	b := another()
	r := file(t, a, "Ada", "SHA256:a")
	now := time.Now()
	for round := range 10 {
		fp := fmt.Sprintf("SHA256:cred-%d", round)
		if _, err := a.IssueCredential(tickets.Issuing{CodeOrID: r.Code, Technician: "alice", Fingerprint: fp, Issued: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 2)
		parallel(2, func(i int) {
			_, errs[i] = []tickets.Store{a, b}[i].ClaimCredential(fp, now)
		})
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case err.Error() != "credential already used":
				t.Fatalf("round %d: losing claim: %v, want credential already used", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d claims won, want exactly 1 (%v)", round, won, errs)
		}
		if _, err := a.EndSession(tickets.SessionEnd{Fingerprint: fp, Cause: "test", State: tickets.CredentialSpent}); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := a.Events(tickets.EventFilter{Kind: "credential.used"})
	if len(evs) != 10 {
		t.Errorf("%d credential.used events, want 10", len(evs))
	}
}

// testTwoGatewaysOneAuditChain: events appended through two gateways at once form one chain
// with no gap and no fork.
func testTwoGatewaysOneAuditChain(t *testing.T, open Opener) {
	a, another := open(t, NewClock().Now)
	b := another()
	const each = 20
	errs := make([]error, 2*each)
	parallel(2*each, func(i int) {
		_, errs[i] = []tickets.Store{a, b}[i%2].AppendEvent(tickets.Event{Kind: "test.append", Attrs: map[string]string{"i": fmt.Sprint(i)}})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	evs, err := b.Events(tickets.EventFilter{})
	if err != nil || len(evs) != 2*each {
		t.Fatalf("%d events, %v; want %d", len(evs), err, 2*each)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
	}
	verify(t, a)
}
