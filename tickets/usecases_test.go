package tickets

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestCredentialRule(t *testing.T) {
	exp := time.Date(2026, 11, 24, 10, 15, 0, 0, time.UTC)
	before, at, after := exp.Add(-time.Minute), exp, exp.Add(time.Second)
	for _, tt := range []struct {
		state CredentialState
		now   time.Time
		live  bool
		use   CredentialUse
		why   string
	}{
		{CredentialIssued, before, false, CredentialStarts, ""},
		{CredentialIssued, at, false, CredentialRefused, "credential expired"},
		{CredentialIssued, after, false, CredentialRefused, "credential expired"},
		{CredentialActive, before, true, CredentialJoins, ""},
		{CredentialActive, after, true, CredentialJoins, ""}, // a live session outlasts the expiry
		{CredentialActive, before, false, CredentialRefused, "credential already used"},
		{CredentialSpent, before, false, CredentialRefused, "credential already used"},
		{CredentialSpent, before, true, CredentialRefused, "credential already used"},
		{CredentialRevoked, before, true, CredentialRefused, "credential revoked"},
		{"bogus", before, false, CredentialRefused, "credential in unknown state"},
	} {
		use, why := CredentialRule(Credential{State: tt.state, Expires: exp}, tt.now, tt.live)
		if use != tt.use || why != tt.why {
			t.Errorf("%s at expiry%+v, live %v: (%d, %q), want (%d, %q)", tt.state, tt.now.Sub(exp), tt.live, use, why, tt.use, tt.why)
		}
	}
}

// TestGroupCommitKeepsFailuresApart: among writes sharing a transaction, the one that fails gets
// its own error and changes nothing; the others are committed.
func TestGroupCommitKeepsFailuresApart(t *testing.T) {
	s, _ := openTestStore(t)
	filed, _ := s.FileRequest(Filing{Form: sampleRequest("closed early", "").Form})
	s.CloseRequest(Closing{CodeOrID: filed.Request.Code, By: "alice"})
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%10 == 0 {
				_, errs[i] = s.CloseRequest(Closing{CodeOrID: filed.Request.Code, By: "alice"})
				return
			}
			_, errs[i] = s.FileRequest(Filing{Form: sampleRequest(fmt.Sprint("p", i), "").Form, AgentKey: fmt.Sprint("SHA256:", i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 0) != errors.Is(err, ErrClosed) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	page, _ := s.Requests(RequestQuery{})
	if len(page.Requests) != 180 {
		t.Errorf("%d open requests, want 180", len(page.Requests))
	}
	if commits := s.commits.commits.Load(); commits >= 200 {
		t.Logf("no write shared a commit (%d commits): the machine ran them one at a time", commits)
	}
	if rep, err := s.Check(); err != nil || !rep.OK() {
		t.Errorf("check: %+v %v", rep, err)
	}
}

// BenchmarkFilings files requests from 1000 concurrent agents the way the gateway does (the
// login's auth.accepted, resume or else file with its event, agent.disconnected) and reports filings/s
// and commits (each two fdatasyncs: data, then header) per filing.
func BenchmarkFilings(b *testing.B) {
	s, err := OpenBolt(b.TempDir()+"/bench.db", BoltOptions{AuditKey: testAuditKey})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const agents = 1000
	start, commits0 := time.Now(), s.commits.commits.Load()
	var wg sync.WaitGroup
	work := make(chan int)
	for range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				key := fmt.Sprintf("SHA256:bench-%d", i)
				s.AppendEvent(Event{Kind: "auth.accepted", Actor: "agent:" + key})
				f := Filing{Form: sampleRequest("bench", "").Form, AgentKey: key, Actor: "agent:" + key}
				filed, err := s.ResumeRequest(f) // as the gateway asks: resume first, then file
				if errors.Is(err, ErrNotFound) {
					filed, err = s.FileRequest(f)
				}
				if err != nil {
					b.Error(err)
					return
				}
				s.AppendEvent(Event{Kind: "agent.disconnected", Actor: "agent:" + key, Request: filed.Request.Code})
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "filings/s")
	b.ReportMetric(float64(s.commits.commits.Load()-commits0)/float64(b.N), "commits/filing")
}
