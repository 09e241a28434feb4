package agent_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// TestWrongHostKeyIsPermanent: an agent pinned to another key stops at once with a
// *tickets.HostKeyError and never retries, and the gateway stores nothing.
func TestWrongHostKeyIsPermanent(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	a := g.StartAgentNoWait(t, testenv.AgentOptions{HostKey: testenv.NewKey(t).PublicKey()})
	err := a.Wait(t, 10*time.Second)
	var hk *tickets.HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("Run returned %v, want a *tickets.HostKeyError", err)
	}
	if hk.Got != ssh.FingerprintSHA256(g.HostKey.PublicKey()) || !strings.Contains(err.Error(), "not the pinned key") {
		t.Errorf("host key error %q names %s, want the gateway's key %s", err, hk.Got, ssh.FingerprintSHA256(g.HostKey.PublicKey()))
	}
	for {
		select {
		case e := <-a.Events:
			if e.Kind != agent.EventEnded {
				t.Fatalf("agent event %v (%v) after a host key mismatch: it must not retry or file", e.Kind, e.Err)
			}
		default:
			if page, _ := g.Store.Requests(tickets.RequestQuery{Closed: true}); len(page.Requests) != 0 {
				t.Fatalf("gateway stored %d requests", len(page.Requests))
			}
			return
		}
	}
}

// TestRunReturnsErrRequestClosed: the help desk closes the request and Run ends with
// ErrRequestClosed, every time (the close arrives just before the connection drops).
func TestRunReturnsErrRequestClosed(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	for i := range 5 {
		a := g.StartAgent(t, testenv.AgentOptions{})
		if _, err := g.Server.CloseRequest(a.Code(), "alice"); err != nil {
			t.Fatal(err)
		}
		if err := a.Wait(t, 5*time.Second); !errors.Is(err, agent.ErrRequestClosed) {
			t.Fatalf("round %d: Run returned %v, want ErrRequestClosed", i, err)
		}
	}
	page, _ := g.Store.Requests(tickets.RequestQuery{})
	reqs := page.Requests
	if len(reqs) != 0 {
		t.Fatalf("%d open requests after closing every one: an agent filed again", len(reqs))
	}
}

// TestAgentResumesAfterDrop: the gateway restarts under the agent, which reconnects with
// backoff and resumes the same code.
func TestAgentResumesAfterDrop(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	a := g.StartAgent(t, testenv.AgentOptions{})
	code := a.Code()
	g2 := g.Restart(t)
	e := a.WaitEvent(t, agent.EventFiled, 15*time.Second)
	if !e.Resumed || e.Code != code {
		t.Fatalf("after the drop: %+v, want resumed %s", e, code)
	}
	if !g2.Server.Online(mustRequest(t, g2, code).ID) {
		t.Fatal("request not online after the resume")
	}
}

func mustRequest(t *testing.T, g *testenv.Gateway, code string) tickets.Request {
	t.Helper()
	r, err := g.Store.Request(code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewRefusesBadConfig(t *testing.T) {
	key := testenv.NewKey(t)
	ok := agent.Config{Gateway: "127.0.0.1:1", HostKeys: []ssh.PublicKey{key.PublicKey()}, Key: key,
		Form: tickets.Form{FullName: "Pat"}, Consent: testenv.FixedConsent(0)}
	cases := []struct {
		name string
		edit func(*agent.Config)
		want string
	}{
		{"no gateway", func(c *agent.Config) { c.Gateway = "" }, "no gateway address"},
		{"no host key", func(c *agent.Config) { c.HostKeys = nil }, "assistd hostkey prints it"},
		{"no key", func(c *agent.Config) { c.Key = nil }, "no agent key"},
		{"no consent", func(c *agent.Config) { c.Consent = nil }, "consent"},
		{"over-long message", func(c *agent.Config) { c.Form.Message = strings.Repeat("m", tickets.MaxMessageLen+1) }, "message: 2001 bytes, at most 2000 allowed"},
		{"no name", func(c *agent.Config) { c.Form.FullName = "\x1b\x07 \u202e" }, "full name: required"},
	}
	for _, c := range cases {
		cfg := ok
		c.edit(&cfg)
		if _, err := agent.New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want an error saying %q", c.name, err, c.want)
		}
	}
	if _, err := agent.New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}
