package sshd_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// limitedSession starts a gateway with configure's limits, an agent that allows control, and a
// viewer session with its input channel open (the person has answered).
func limitedSession(t *testing.T, configure func(*sshd.Config)) (*testenv.Gateway, *testenv.Agent, *viewer.Session, ssh.Channel) {
	t.Helper()
	g := testenv.StartGateway(t, testenv.Options{Configure: configure})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView | protocol.GrantControl, Routes: map[string]agent.Route{
		protocol.InputChannel: echoRoute(protocol.GrantControl),
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, g.IssueOTC(t, alice, a.Code()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ch, reqs, err := s.OpenChannel(protocol.InputChannel, nil)
	if err != nil {
		t.Fatal(viewer.ChannelError(protocol.InputChannel, err))
	}
	go ssh.DiscardRequests(reqs)
	return g, a, s, ch
}

// waitEnded waits for the viewer's session to end and returns the gateway's reason.
func waitEnded(t *testing.T, s *viewer.Session, within time.Duration) string {
	t.Helper()
	select {
	case <-s.Ended():
		return s.EndReason()
	case <-time.After(within):
		t.Fatalf("the session did not end within %s", within)
		return ""
	}
}

// TestSessionIdleEnds: with --session-idle 2s, a session without input ends, and the reason
// reaches the viewer, the person's agent and the audit trail; both were told in the last
// second how long was left.
func TestSessionIdleEnds(t *testing.T) {
	g, a, s, _ := limitedSession(t, func(c *sshd.Config) { c.SessionIdle = 2 * time.Second })
	started := time.Now()

	warned := a.WaitEvent(t, agent.EventSessionLimit, 10*time.Second)
	if left := warned.Session.EndsIn; left <= 0 || left > time.Second || !strings.Contains(warned.Session.EndsWhy, "no input") {
		t.Errorf("the person was told the session ends in %s (%q); want at most the last second, for no input", left, warned.Session.EndsWhy)
	}
	const want = "the session was idle for 2s (no input or file operation from the technician)"
	if reason := waitEnded(t, s, 10*time.Second); reason != want {
		t.Errorf("the viewer heard %q, want %q", reason, want)
	}
	t.Logf("ended %s after the session started", time.Since(started).Round(10*time.Millisecond))
	ended := a.WaitEvent(t, agent.EventSessionEnded, 10*time.Second)
	var why *agent.GatewayEndError
	if !errors.As(ended.Err, &why) || why.Reason != want {
		t.Errorf("the person's agent heard %v, want %q", ended.Err, want)
	}
	waitEvent(t, g, "session.ended", map[string]string{"cause": want, "credential_state": string(tickets.CredentialSpent)})
}

// TestSessionInputPushesIdleEnd: input after the warning takes it down on both sides, and the
// session goes on until it is idle again.
func TestSessionInputPushesIdleEnd(t *testing.T) {
	_, a, s, input := limitedSession(t, func(c *sshd.Config) { c.SessionIdle = 4 * time.Second })
	a.WaitEvent(t, agent.EventSessionLimit, 10*time.Second)
	testenv.WaitFor(t, 5*time.Second, "the viewer hears the limit", func() bool { ends, _, _ := s.Limit(); return !ends.IsZero() })
	if _, err := input.Write([]byte{0}); err != nil {
		t.Fatalf("input after the warning: %v", err)
	}
	if e := a.WaitEvent(t, agent.EventSessionLimit, 5*time.Second); e.Session.EndsIn != 0 {
		t.Errorf("after input the person was told it ends in %s, want the warning taken down", e.Session.EndsIn)
	}
	testenv.WaitFor(t, 5*time.Second, "the viewer hears the warning taken down", func() bool { ends, _, _ := s.Limit(); return ends.IsZero() })
	select {
	case <-s.Ended():
		t.Fatalf("the session ended: %s", s.EndReason())
	default:
	}
	if reason := waitEnded(t, s, 15*time.Second); !strings.Contains(reason, "idle for 4s") {
		t.Errorf("the session ended with %q, want idle", reason)
	}
}

// TestSessionMaxEnds: --session-max ends a session however busy, with the reason.
func TestSessionMaxEnds(t *testing.T) {
	_, a, s, _ := limitedSession(t, func(c *sshd.Config) { c.SessionMax = 2 * time.Second })
	if e := a.WaitEvent(t, agent.EventSessionLimit, 10*time.Second); !strings.Contains(e.Session.EndsWhy, "time limit of 2s") {
		t.Errorf("the person was told %q, want the time limit", e.Session.EndsWhy)
	}
	if reason := waitEnded(t, s, 10*time.Second); reason != "the session reached the gateway's time limit of 2s" {
		t.Errorf("the session ended with %q", reason)
	}
}
