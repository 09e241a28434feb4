package sshd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/viewer"
)

// TestOfflineAgentKeepsTheOneTimeFile: a technician who connects while the person's agent is
// away is told so, and the same one-time file works once the agent is back.
func TestOfflineAgentKeepsTheOneTimeFile(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	key := testenv.NewKey(t)
	routes := map[string]agent.Route{protocol.FramebufferChannel: echoRoute(protocol.GrantView)}
	a := g.StartAgent(t, testenv.AgentOptions{Key: key, Grant: protocol.GrantView, Routes: routes})
	code := a.Code()
	o := g.IssueOTC(t, alice, code)
	a.Stop()
	r, _ := g.Store.Request(code)
	testenv.WaitFor(t, 5*time.Second, "the agent to go offline", func() bool { return !g.Server.Online(r.ID) })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.OpenChannel(protocol.FramebufferChannel, nil); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("framebuffer with the agent away: %v, want it said offline", err)
	}

	b := g.StartAgent(t, testenv.AgentOptions{Key: key, Grant: protocol.GrantView, Routes: routes})
	if b.Code() != code {
		t.Fatalf("the agent came back with %s, want its request %s", b.Code(), code)
	}
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatalf("framebuffer once the agent is back, same one-time file: %v", err)
	}
	go ssh.DiscardRequests(reqs)
	ch.Close()

	// Stopping the agent is the person's choice: the session ends at once, and says so (a link
	// that drops instead leaves the session waiting for the agent: resume_e2e_test.go).
	b.Stop()
	select {
	case <-s.Ended():
		if !strings.Contains(s.EndReason(), "the person ended the session") {
			t.Fatalf("session ended because %q, want the person ended it", s.EndReason())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end when the agent went away")
	}
}
