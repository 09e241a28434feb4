package agent_test

import (
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// TestWithdrawAsSoonAsFiled: the gateway tells its watchers of a filing before its reply reaches
// the agent; a withdrawal in that moment (a person pressing Withdraw, or Ctrl-C, at once) waits
// for the reply and withdraws the request, every time.
func TestWithdrawAsSoonAsFiled(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	changes := g.Server.WatchRequests(t.Context())
	for i := range 20 {
		a, err := agent.New(agent.Config{Gateway: g.Addr, HostKeys: []ssh.PublicKey{g.HostKey.PublicKey()}, Key: testenv.NewKey(t),
			Form: tickets.Form{FullName: "Pat Person"}, Consent: testenv.FixedConsent(0)})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- a.Run(t.Context()) }()
		var code string
		for code == "" {
			select {
			case c := <-changes:
				if c.Kind == "request.filed" {
					code = c.Code
				}
			case err := <-done:
				t.Fatalf("run %d: the agent stopped before filing: %v", i, err)
			case <-time.After(10 * time.Second):
				t.Fatalf("run %d: no filing", i)
			}
		}
		if err := a.Withdraw(t.Context()); err != nil {
			t.Fatalf("run %d: withdraw the moment %s was filed: %v", i, code, err)
		}
		<-done
		if r, err := g.Store.Request(code); err != nil || r.Open() {
			t.Fatalf("run %d: request %s after the withdrawal: %+v, %v", i, code, r.State, err)
		}
	}
}
