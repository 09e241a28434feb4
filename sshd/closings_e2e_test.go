package sshd_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// TestCloseOnOneGatewayReachesAnother: a request closed on gateway 1 ends the session that a
// technician holds of it on gateway 2, and its agent, connected to gateway 2, hears that it was
// closed and by whom — the gateway that closed it holds neither.
func TestCloseOnOneGatewayReachesAnother(t *testing.T) {
	gws := startCluster(t, 2, nil)
	alice := gws[0].AddTechnician(t, "alice", false)
	a := gws[1].StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView})
	o := gws[0].IssueOTC(t, alice, a.Code())
	signer, err := o.Signer()
	if err != nil {
		t.Fatal(err)
	}
	tech, err := dialAs(t, gws[1], protocol.OTCUser(o.Request), ssh.PublicKeys(signer))
	if err != nil {
		t.Fatalf("the technician's login on gateway 2: %v", err)
	}
	ended := make(chan struct{})
	go func() { tech.Wait(); close(ended) }()
	waitEvent(t, gws[0], "credential.used", nil)

	if _, err := gws[0].Server.CloseRequest(a.Code(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(t, 10*time.Second); !errors.Is(err, agent.ErrRequestClosed) {
		t.Fatalf("the agent on gateway 2 ended with %v, want ErrRequestClosed", err)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the technician's session on gateway 2 still open 10 s after the request was closed on gateway 1")
	}
	waitLog(t, gws[1].Logs, `msg="request closed on another gateway" request=`+a.Code()+` by=alice`)
	c, err := gws[1].Store.Credential(ssh.FingerprintSHA256(signer.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if c.State != tickets.CredentialRevoked {
		t.Errorf("the credential is %s after its request was closed, want revoked", c.State)
	}
}
