package viewer_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

func echoRoutes() map[string]agent.Route {
	echo := agent.ServiceFunc(func(_ context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, _ protocol.Grant) {
		go ssh.DiscardRequests(reqs)
		io.Copy(ch, ch)
	})
	return map[string]agent.Route{protocol.FramebufferChannel: {Need: protocol.GrantView, Service: echo}}
}

// session starts a gateway, a technician and an agent answering grant, and dials an .otc.
func session(t *testing.T, grant protocol.Grant) (*testenv.Gateway, *testenv.Technician, *testenv.Agent, *viewer.Session) {
	t.Helper()
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: grant, Routes: echoRoutes()})
	s, err := dial(t, g.IssueOTC(t, alice, a.Code()))
	if err != nil {
		t.Fatal(err)
	}
	return g, alice, a, s
}

func dial(t *testing.T, o *tickets.OTC) (*viewer.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func waitEnded(t *testing.T, s *viewer.Session) string {
	t.Helper()
	select {
	case <-s.Ended():
		return s.EndReason()
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
	return ""
}

func TestConsentDeniedTellsTheViewer(t *testing.T) {
	_, _, _, s := session(t, 0)
	_, _, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err == nil {
		t.Fatal("framebuffer opened though the person declined")
	}
	msg := viewer.ChannelError(protocol.FramebufferChannel, err).Error()
	if !strings.Contains(msg, "declined") || strings.Count(msg, "declined") > 1 {
		t.Errorf("viewer's error %q should say once that the person declined", msg)
	}
	if r := waitEnded(t, s); !strings.Contains(r, "declined") {
		t.Errorf("session ended because %q, want the person declined", r)
	}
}

func TestPersonEndsSession(t *testing.T) {
	_, _, a, s := session(t, protocol.GrantView)
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	a.WaitEvent(t, agent.EventSessionStarted, 5*time.Second)
	a.End()
	if r := waitEnded(t, s); !strings.Contains(r, "the person ended the session") {
		t.Errorf("session ended because %q, want the person ended it", r)
	}
	if _, err := io.ReadAll(ch); err != nil {
		t.Logf("framebuffer after the end: %v", err)
	}
	a.WaitEvent(t, agent.EventSessionEnded, 5*time.Second)
}

func TestRequestClosedEndsViewerSession(t *testing.T) {
	g, alice, a, s := session(t, protocol.GrantView)
	if _, _, err := s.OpenChannel(protocol.FramebufferChannel, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, status := g.Exec(t, alice, "request", "close", a.Code()); status != 0 {
		t.Fatal("close failed")
	}
	if r := waitEnded(t, s); !strings.Contains(r, "request was closed by alice") {
		t.Errorf("session ended because %q, want the request was closed", r)
	}
}

func TestAgentOfflineIsSaidClearly(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView, Routes: echoRoutes()})
	o := g.IssueOTC(t, alice, a.Code())
	a.Stop()
	testenv.WaitFor(t, 5*time.Second, "the agent to go offline", func() bool {
		r, _ := g.Store.Request(a.Code())
		return !g.Server.Online(r.ID)
	})
	s, err := dial(t, o)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.OpenChannel(protocol.FramebufferChannel, nil)
	if err == nil || !strings.Contains(viewer.ChannelError(protocol.FramebufferChannel, err).Error(), "offline") {
		t.Fatalf("framebuffer with the agent offline: %v, want a message saying it is offline", err)
	}
}

func TestDialOTCRefusesImpostorAndExpiredFile(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{})
	o := g.IssueOTC(t, alice, a.Code())

	impostor := *o
	impostor.HostKeys = []ssh.PublicKey{testenv.NewKey(t).PublicKey()}
	impostor.Gateways = []string{g.Addr, g.Addr}
	_, err := dial(t, &impostor)
	var hk *tickets.HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("dial with the wrong host key: %v, want a *tickets.HostKeyError", err)
	}

	expired := *o
	expired.Expires = time.Now().Add(-time.Minute)
	if _, err := dial(t, &expired); err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "assist otc "+o.Request) {
		t.Fatalf("dial with an expired file: %v, want 'expired' and how to get a new one", err)
	}
	// Neither attempt used the credential.
	signer, _ := o.Signer()
	c, err := g.Store.Credential(ssh.FingerprintSHA256(signer.PublicKey()))
	if err != nil || c.State != tickets.CredentialIssued {
		t.Fatalf("credential %+v, %v; want still issued", c, err)
	}
}
