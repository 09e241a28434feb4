package sshd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/sshd"
)

// TestOpenRequestsPerAddress: past MaxOpenPerAddress open requests from one address, a new
// filing is refused in words (audited); another address still files; a closed request makes
// room again; and an admin closes every open request from the address at once.
func TestOpenRequestsPerAddress(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) { c.MaxOpenPerAddress = 3 }})
	admin := g.AddTechnician(t, "alice", true)
	bob := g.AddTechnician(t, "bob", false)
	var spam []*testenv.Agent
	for i := 0; i < 3; i++ {
		spam = append(spam, g.StartAgent(t, testenv.AgentOptions{From: "127.0.3.1"}))
	}
	err := g.StartAgentErr(t, testenv.AgentOptions{From: "127.0.3.1"})
	want := "3 requests from your address (127.0.3.1) are already open"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("fourth filing from one address: %v, want %q", err, want)
	}
	waitEvent(t, g, "request.refused", map[string]string{})
	if e := events(t, g, "request.refused"); !strings.Contains(e[0].Attrs["reason"], want) || !strings.HasPrefix(e[0].Remote, "127.0.3.1:") {
		t.Fatalf("refusal audited as %+v", e[0])
	}
	other := g.StartAgent(t, testenv.AgentOptions{From: "127.0.4.1"})

	if _, errs, status := g.Exec(t, admin, "request", "close", spam[0].Code()); status != 0 {
		t.Fatalf("request close: %s", errs)
	}
	spam = append(spam[1:], g.StartAgent(t, testenv.AgentOptions{From: "127.0.3.1"}))

	if _, errs, status := g.Exec(t, bob, "request", "close", "--from", "127.0.3.1"); status == 0 || !strings.Contains(errs, "only admins") {
		t.Fatalf("a technician closed by address: status %d %s", status, errs)
	}
	out, errs, status := g.Exec(t, admin, "request", "close", "--from", "127.0.3.0/24")
	if status != 0 || !strings.Contains(out, "closed 3 open request(s) from 127.0.3.0/24") {
		t.Fatalf("request close --from: status %d: %s%s", status, out, errs)
	}
	for _, a := range spam {
		if err := a.Wait(t, 10*time.Second); err != agent.ErrRequestClosed {
			t.Fatalf("agent of a closed request ended with %v", err)
		}
	}
	if v := showJSON(t, g, admin, other.Code()); strings.Contains(v.State, "closed") {
		t.Fatalf("the other address's request: %+v", v)
	}
	waitEvent(t, g, "request.closed-from", map[string]string{"from": "127.0.3.0/24", "closed": "3"})
}

// TestFilingsPerMinute: past MaxFilingsPerMinute new filings from one address in a minute, a
// new filing is refused in words; a key resuming its request is not limited; a minute later
// filing works again.
func TestFilingsPerMinute(t *testing.T) {
	clk := &clock{}
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) { c.MaxFilingsPerMinute, c.Now = 2, clk.Now }})
	first := g.StartAgent(t, testenv.AgentOptions{From: "127.0.5.1"})
	g.StartAgent(t, testenv.AgentOptions{From: "127.0.5.1"})
	err := g.StartAgentErr(t, testenv.AgentOptions{From: "127.0.5.1"})
	want := "2 requests were filed from your address (127.0.5.1) within a minute"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("third filing within a minute: %v, want %q", err, want)
	}
	again := g.StartAgent(t, testenv.AgentOptions{From: "127.0.5.1", Key: first.Key})
	if again.Code() != first.Code() {
		t.Fatalf("the same key filed %s, want its request %s resumed", again.Code(), first.Code())
	}
	clk.Advance(time.Minute)
	g.StartAgent(t, testenv.AgentOptions{From: "127.0.5.1"})
}
