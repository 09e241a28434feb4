package agent_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// deadAddress is a loopback address where nothing listens: a dial is refused at once.
func deadAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestFirstGatewayDownNextServes: an agent whose first gateway address does not answer files
// with the next one, on its first try, and says which did not answer.
func TestFirstGatewayDownNextServes(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	dead := deadAddress(t)
	a := g.StartAgent(t, testenv.AgentOptions{Via: dead, Alternates: []string{g.Addr}})
	if _, err := g.Store.Request(a.Code()); err != nil {
		t.Fatalf("the request is not at the second gateway: %v", err)
	}
	if logs := a.Logs.String(); !strings.Contains(logs, "gateway not reached") || !strings.Contains(logs, dead) {
		t.Errorf("the agent's log does not say which gateway did not answer:\n%s", logs)
	}
}

// TestGatewayGoneAgentMovesOn: when the gateway an agent is on goes away, the agent is online
// at the next of its gateways (here one with a store of its own, so the request is filed
// anew; on a shared store it resumes), without the backoff of an agent that cannot get in.
func TestGatewayGoneAgentMovesOn(t *testing.T) {
	g1 := testenv.StartGateway(t, testenv.Options{})
	g2 := testenv.StartGateway(t, testenv.Options{HostKey: g1.HostKey})
	a := g1.StartAgent(t, testenv.AgentOptions{Alternates: []string{g2.Addr}, MaxBackoff: -1})
	gone := time.Now()
	g1.Stop()
	e := a.WaitEvent(t, agent.EventFiled, 10*time.Second)
	t.Logf("online at the next gateway %s after the first stopped", time.Since(gone).Round(time.Millisecond))
	if _, err := g2.Store.Request(e.Code); err != nil {
		t.Fatalf("request %s is not at the second gateway: %v", e.Code, err)
	}
}

// TestEveryGatewayDownSaysEach: an agent that reaches none of its gateways on its first try
// stops and names every address it tried.
func TestEveryGatewayDownSaysEach(t *testing.T) {
	key := testenv.NewKey(t)
	dead1, dead2 := deadAddress(t), deadAddress(t)
	a, err := agent.New(agent.Config{Gateway: dead1, Alternates: []string{dead2}, HostKeys: []ssh.PublicKey{key.PublicKey()},
		Key: testenv.NewKey(t), Form: tickets.Form{FullName: "Pat Person"}, Consent: testenv.FixedConsent(0)})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), dead1) || !strings.Contains(err.Error(), dead2) {
		t.Fatalf("Run: %v, want an error naming %s and %s", err, dead1, dead2)
	}
}
