package sshd_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/viewer"
)

// echoRoute serves a channel by echoing what it reads, so a test sees the splice carry data.
func echoRoute(need protocol.Grant) agent.Route {
	return agent.Route{Need: need, Service: agent.ServiceFunc(func(_ context.Context, ch ssh.Channel, _ <-chan *ssh.Request, _ protocol.Grant) {
		io.Copy(ch, ch)
		ch.CloseWrite()
	})}
}

func listJSON(t *testing.T, g *testenv.Gateway, tech *testenv.Technician) []sshd.RequestView {
	t.Helper()
	out, errs, status := g.Exec(t, tech, "request", "list", "--json")
	if status != 0 {
		t.Fatalf("request list: status %d: %s", status, errs)
	}
	var views []sshd.RequestView
	if err := json.Unmarshal([]byte(out), &views); err != nil {
		t.Fatalf("request list --json: %v\n%s", err, out)
	}
	return views
}

func TestSmokeOTCReachesAgentChannel(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", true)
	consent := &testenv.RecordingConsent{Grant: protocol.GrantView | protocol.GrantControl}
	a := g.StartAgent(t, testenv.AgentOptions{Consent: consent, Routes: map[string]agent.Route{
		protocol.FramebufferChannel: echoRoute(protocol.GrantView),
	}})
	views := listJSON(t, g, alice)
	if len(views) != 1 || views[0].Code != a.Code() || !views[0].Online {
		t.Fatalf("list = %+v, want the agent's request %s online", views, a.Code())
	}
	o := g.IssueOTC(t, alice, a.Code())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatal(viewer.ChannelError(protocol.FramebufferChannel, err))
	}
	go ssh.DiscardRequests(reqs)
	if _, err := ch.Write([]byte("hello agent")); err != nil {
		t.Fatal(err)
	}
	ch.CloseWrite()
	got, err := io.ReadAll(ch)
	if err != nil || string(got) != "hello agent" {
		t.Fatalf("echo through splice = %q, %v", got, err)
	}
	asks := consent.Asks()
	if len(asks) != 1 || asks[0].Technician != "alice" || asks[0].FullName != "Alice Tester" {
		t.Fatalf("consent asks = %+v, want one from alice (Alice Tester)", asks)
	}
}
