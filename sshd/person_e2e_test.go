package sshd_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/viewer"
)

// TestWithdrawClosesRequest: the person withdraws; the gateway closes the request as closed by
// the agent, audits it, and the technician's list no longer shows it; Run ends with ErrWithdrawn.
func TestWithdrawClosesRequest(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	code := d.agent.Code()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.agent.Withdraw(ctx); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	if err := d.agent.Wait(t, 10*time.Second); !errors.Is(err, agent.ErrWithdrawn) {
		t.Fatalf("Run returned %v, want ErrWithdrawn", err)
	}
	r, err := d.g.Store.Request(code)
	if err != nil {
		t.Fatal(err)
	}
	if r.Open() || !strings.HasPrefix(r.ClosedBy, "agent:SHA256:") {
		t.Errorf("request after withdrawal: state %s, closed by %q; want closed by the agent", r.State, r.ClosedBy)
	}
	waitEvent(t, d.g, "request.withdrawn", nil)
	if out, _, _ := d.g.Exec(t, d.alice, "request", "list"); strings.Contains(out, code) {
		t.Errorf("request list still shows the withdrawn %s:\n%s", code, out)
	}
	if err := d.agent.Withdraw(ctx); !errors.Is(err, agent.ErrOffline) {
		t.Errorf("second Withdraw = %v, want ErrOffline", err)
	}
}

// lateConsent waits until the question's deadline and answers after it, as a person clicking
// too late would; how long it was given to answer is kept.
type lateConsent struct{ given chan time.Duration }

func (l lateConsent) Ask(ctx context.Context, _ protocol.ConsentAsk) (protocol.Grant, error) {
	dl, ok := ctx.Deadline()
	given := time.Until(dl)
	if !ok {
		given = 0
	}
	l.given <- given
	<-ctx.Done()
	return protocol.GrantView | protocol.GrantControl, nil
}

// TestLateConsentGrantsNothing: the question carries the gateway's deadline, closes at it, and
// an answer after it lets nobody in, at the gateway or the agent.
func TestLateConsentGrantsNothing(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) { c.ConsentTimeout = 1500 * time.Millisecond }})
	alice := g.AddTechnician(t, "alice", false)
	late := lateConsent{given: make(chan time.Duration, 1)}
	d := &desk{g: g, alice: alice, served: make(chan string, 16)}
	a := g.StartAgent(t, testenv.AgentOptions{Consent: late, Routes: d.routes()})
	s, err := dialOTC(t, g.IssueOTC(t, alice, a.Code()))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.OpenChannel(protocol.FramebufferChannel, nil)
	if err == nil || !strings.Contains(viewer.ChannelError(protocol.FramebufferChannel, err).Error(), "did not answer in time") {
		t.Fatalf("framebuffer after no answer: %v, want refused, not answered in time", err)
	}
	// The gateway's 1.5 s, counted from the ask's arrival (it cannot know the transit), a little
	// short of it so that a last-moment answer is not lost on the way; not the agent's own 2 min.
	if given := <-late.given; given <= time.Second || given > 1500*time.Millisecond {
		t.Errorf("the person was given %v to answer, want just under the gateway's 1.5 s", given)
	}
	waitEvent(t, g, "consent.answered", map[string]string{"grant": "deny", "note": "no answer"})
	testenv.WaitFor(t, 5*time.Second, "the agent to drop the late answer", func() bool {
		return strings.Contains(a.Logs.String(), "consent denied")
	})
	if ss := a.Sessions(); len(ss) != 0 {
		t.Errorf("agent holds sessions %+v after a late answer", ss)
	}
	select {
	case <-d.served:
		t.Error("a route served a channel after a late answer")
	default:
	}
}

// TestNarrowToViewOnly: Switch to view only closes the live input channel at once, the gateway
// refuses a new one and audits the change, and the screen goes on.
func TestNarrowToViewOnly(t *testing.T) {
	d := newDesk(t, protocol.GrantView|protocol.GrantControl, nil)
	s, err := dialOTC(t, d.g.IssueOTC(t, d.alice, d.agent.Code()))
	if err != nil {
		t.Fatal(err)
	}
	input := openEcho(t, s, protocol.InputChannel)
	openEcho(t, s, protocol.FramebufferChannel)
	sessions := d.agent.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("agent sessions %+v, want one", sessions)
	}
	if err := d.agent.Narrow(sessions[0].ID, protocol.GrantView); err != nil {
		t.Fatalf("Narrow: %v", err)
	}
	closed := make(chan struct{})
	go func() { io.Copy(io.Discard, input); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the input channel stayed open after the person switched to view only")
	}
	waitEvent(t, d.g, "consent.answered", map[string]string{"grant": "view", "note": "changed by the person"})
	if _, _, err := s.OpenChannel(protocol.InputChannel, nil); err == nil {
		t.Error("input channel opened after the person switched to view only")
	}
	openEcho(t, s, protocol.FramebufferChannel)
	if g := d.agent.Sessions()[0].Grant; g != protocol.GrantView {
		t.Errorf("agent's grant after narrowing: %s, want view", g)
	}
}
