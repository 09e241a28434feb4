// Package storetest is the use-case suite every tickets.Store passes: the bbolt file and the
// etcd cluster run the same tests, so a second backend keeps the first one's promises.
package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// Opener makes a fresh, empty store for one test, with now as its clock, and closes it when the
// test ends. another opens one more handle on the same data, as a second gateway would: a
// second client where the backend has them (etcd); for a store that one process holds (bbolt)
// it is the first handle while that is open, and the store opened again once it was closed.
type Opener func(t *testing.T, now func() time.Time) (s tickets.Store, another func() tickets.Store)

// Run runs every test of the suite against the stores open makes.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"FindBySpelling", testFindBySpelling},
		{"NotFound", testNotFound},
		{"Lifecycle", testLifecycle},
		{"EndStaleSessions", testEndStaleSessions},
		{"RequestPages", testRequestPages},
		{"Users", testUsers},
		{"ClaimAndHandOver", testClaimAndHandOver},
		{"ClaimRace", testClaimRace},
		{"Notes", testNotes},
		{"AdminsOpenClaimedRequests", testAdminsOpenClaimedRequests},
		{"AdminsHandOverClaimedRequests", testAdminsHandOverClaimedRequests},
		{"ListAfterRelease", testListAfterRelease},
		{"AppendEventChains", testAppendEventChains},
		{"EventsFilter", testEventsFilter},
		{"ConcurrentFailuresKeptApart", testConcurrentFailuresKeptApart},
		{"TwoGatewaysFileOneAgent", testTwoGatewaysFileOneAgent},
		{"TwoGatewaysClaimOneCredential", testTwoGatewaysClaimOneCredential},
		{"TwoGatewaysOneAuditChain", testTwoGatewaysOneAuditChain},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Clock is a clock that moves one second at each reading, so every record a test makes gets a
// distinct, ordered time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a Clock on a fixed day.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)} }

// Now moves the clock a second and reads it.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func fresh(t *testing.T, open Opener) tickets.Store {
	t.Helper()
	s, _ := open(t, NewClock().Now)
	return s
}

// sampleForm is a form as an agent sends it.
func sampleForm(name string) tickets.Form {
	return tickets.Form{FullName: name, UserName: "user", Computer: "PC-042", Email: "user@example.org",
		Phone: "+1 555 0100", Message: "my printer is on fire", LocalIP: "192.0.2.10"}
}

func file(t *testing.T, s tickets.Store, name, agentKey string) tickets.Request {
	t.Helper()
	f, err := s.FileRequest(tickets.Filing{Form: sampleForm(name), AgentKey: agentKey, Actor: "agent:" + agentKey})
	if err != nil {
		t.Fatalf("FileRequest: %v", err)
	}
	return f.Request
}

func closeReq(t *testing.T, s tickets.Store, code string) {
	t.Helper()
	if _, err := s.CloseRequest(tickets.Closing{CodeOrID: code, By: "alice"}); err != nil {
		t.Fatalf("close %s: %v", code, err)
	}
}

// checker is a store that checks itself whole (bbolt's Check).
type checker interface {
	Check() (tickets.CheckReport, error)
}

// verify checks the audit chain, and the whole store where it can.
func verify(t *testing.T, s tickets.Store) {
	t.Helper()
	if err := s.VerifyEvents(); err != nil {
		t.Error(err)
	}
	if c, ok := s.(checker); ok {
		if rep, err := c.Check(); err != nil || !rep.OK() {
			t.Errorf("check: %+v %v", rep, err)
		}
	}
}
