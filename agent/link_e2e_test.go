package agent_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/testenv"
)

// startBehindProxy runs an agent with its default keepalive and reconnect settings, reaching
// g through a proxy whose link the test controls.
func startBehindProxy(t *testing.T, g *testenv.Gateway) (*linkproxy.Proxy, *testenv.Agent, string) {
	t.Helper()
	p, err := linkproxy.Start(g.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	a := g.StartAgent(t, testenv.AgentOptions{Via: p.Addr, MaxBackoff: -1})
	r, err := g.Store.Request(a.Code())
	if err != nil {
		t.Fatal(err)
	}
	return p, a, r.ID
}

// TestDeadLinkNoticed: a link that silently stops carrying anything is noticed by the agent
// and by the gateway (the request goes offline) with the default keepalives, and the agent is
// back once the link returns.
func TestDeadLinkNoticed(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	p, a, id := startBehindProxy(t, g)
	p.Blackhole()
	dead := time.Now()
	a.WaitEvent(t, agent.EventDisconnected, 30*time.Second)
	t.Logf("the agent noticed the dead link after %s", time.Since(dead).Round(time.Millisecond))
	testenv.WaitFor(t, 30*time.Second, "the gateway to see the agent gone", func() bool { return !g.Server.Online(id) })
	t.Logf("the gateway noticed the dead link after %s", time.Since(dead).Round(time.Millisecond))

	p.Restore()
	back := time.Now()
	if e := a.WaitEvent(t, agent.EventFiled, 30*time.Second); !e.Resumed || e.Code != a.Code() {
		t.Fatalf("after the link returned: %+v, want request %s resumed", e, a.Code())
	}
	t.Logf("back online %s after the link returned", time.Since(back).Round(time.Millisecond))
}

// TestLinkCutAndBack: after a link that drops every connection comes back, the agent, whose
// connection had authenticated, retries every one to two seconds (never the exponential
// schedule of an agent that never got in), so it is back within two seconds of the link.
func TestLinkCutAndBack(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	p, a, id := startBehindProxy(t, g)
	p.Cut()
	a.WaitEvent(t, agent.EventDisconnected, 10*time.Second)
	// Stay cut for a few tries.
	for i := 0; i < 3; i++ {
		a.WaitEvent(t, agent.EventDisconnected, 10*time.Second)
	}
	p.Restore()
	back := time.Now()
	if e := a.WaitEvent(t, agent.EventFiled, 10*time.Second); !e.Resumed {
		t.Fatalf("after the link returned: %+v, want resumed", e)
	}
	t.Logf("back online %s after the link returned", time.Since(back).Round(time.Millisecond))
	if !g.Server.Online(id) {
		t.Fatal("the gateway does not have the agent online")
	}
	waits := regexp.MustCompile(`disconnected; reconnecting"? .*in=(\S+)`).FindAllStringSubmatch(a.Logs.String(), -1)
	if len(waits) < 4 {
		t.Fatalf("%d reconnect waits logged, want 4:\n%s", len(waits), a.Logs)
	}
	for _, w := range waits {
		d, err := time.ParseDuration(w[1])
		if err != nil || d > 2*time.Second {
			t.Errorf("reconnect wait %s after a drop, want at most 2s", w[1])
		}
	}
}
