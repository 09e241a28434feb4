package agent_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// rogueGateway is an SSH server of the test's own, on real loopback TCP, playing a gateway that
// ignores the person's answer: the agent must enforce it by itself.
type rogueGateway struct {
	t    *testing.T
	conn *ssh.ServerConn
}

// startRogue accepts one agent, answers its request@ with a code and returns the connection.
func startRogue(t *testing.T, consent agent.Consenter, routes map[string]agent.Route) (*rogueGateway, *agent.Agent) {
	t.Helper()
	hostKey := testenv.NewKey(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
	cfg.AddHostKey(hostKey)
	accepted := make(chan *ssh.ServerConn, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
		if err != nil {
			nc.Close()
			return
		}
		go func() {
			for nc := range chans {
				nc.Reject(ssh.Prohibited, "no")
			}
		}()
		go func() {
			for r := range reqs {
				if r.Type == protocol.RequestGlobal {
					r.Reply(true, ssh.Marshal(protocol.RequestReply{Code: "ROGU-E234"}))
					accepted <- sc
					continue
				}
				r.Reply(false, nil)
			}
		}()
	}()
	a, err := agent.New(agent.Config{
		Gateway: l.Addr().String(), HostKeys: []ssh.PublicKey{hostKey.PublicKey()}, Key: testenv.NewKey(t),
		Form: tickets.Form{FullName: "Pat Person"}, Consent: consent, Routes: routes,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case sc := <-accepted:
		t.Cleanup(func() { sc.Close() })
		return &rogueGateway{t: t, conn: sc}, a
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not file its request with the rogue gateway")
	}
	return nil, nil
}

// openSession opens session@ and returns the channel and the grant the agent sent, or the
// rejection.
func (g *rogueGateway) openSession(id, tech string) (ssh.Channel, protocol.Grant, error) {
	g.t.Helper()
	ch, reqs, err := g.conn.OpenChannel(protocol.SessionChannel, protocol.Marshal(protocol.ConsentAsk{
		SessionID: id, RequestCode: "ROGU-E234", Technician: tech, FullName: "Full " + tech}, protocol.Version))
	if err != nil {
		return nil, 0, err
	}
	select {
	case r := <-reqs:
		var m protocol.GrantMsg
		if r.Type != protocol.GrantRequest || ssh.Unmarshal(r.Payload, &m) != nil {
			g.t.Fatalf("agent sent %q on the session channel, want its grant", r.Type)
		}
		r.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		return ch, protocol.Grant(m.Grant), nil
	case <-time.After(10 * time.Second):
		g.t.Fatal("no grant on the session channel")
	}
	return nil, 0, nil
}

func (g *rogueGateway) open(typ, sessionID string) error {
	ch, reqs, err := g.conn.OpenChannel(typ, ssh.Marshal(protocol.ChannelRef{SessionID: sessionID}))
	if err == nil {
		go ssh.DiscardRequests(reqs)
		ch.Close()
	}
	return err
}

// servedRoutes records which channel types the agent actually served.
func servedRoutes(served chan<- string) map[string]agent.Route {
	route := func(typ string, need protocol.Grant) agent.Route {
		return agent.Route{Need: need, Service: agent.ServiceFunc(func(_ context.Context, ch ssh.Channel, _ <-chan *ssh.Request, _ protocol.Grant) {
			served <- typ
			io.Copy(io.Discard, ch)
		})}
	}
	return map[string]agent.Route{
		protocol.FramebufferChannel: route(protocol.FramebufferChannel, protocol.GrantView),
		protocol.InputChannel:       route(protocol.InputChannel, protocol.GrantView|protocol.GrantControl),
	}
}

func wantRejected(t *testing.T, err error, reason ssh.RejectionReason, what string) {
	t.Helper()
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != reason {
		t.Fatalf("%s: %v, want rejected with %v", what, err, reason)
	}
}

func TestAgentEnforcesViewOnlyAgainstRogueGateway(t *testing.T) {
	served := make(chan string, 8)
	consent := &testenv.RecordingConsent{Grant: protocol.GrantView}
	g, a := startRogue(t, consent, servedRoutes(served))
	ch, grant, err := g.openSession("s1", "mallory\x1b[2J\u202e")
	if err != nil {
		t.Fatalf("session@: %v", err)
	}
	defer ch.Close()
	if grant != protocol.GrantView {
		t.Fatalf("agent granted %s, want view", grant)
	}
	asks := consent.Asks()
	if len(asks) != 1 || asks[0].Technician != "mallory[2J" {
		t.Fatalf("the person was asked %+v; want the technician's name without control characters", asks)
	}

	err = g.open(protocol.InputChannel, "s1")
	wantRejected(t, err, ssh.Prohibited, "input in a view-only session")
	if !strings.Contains(err.Error(), "the person allowed view") {
		t.Errorf("rejection %q does not say what the person allowed", err)
	}
	err = g.open(protocol.FramebufferChannel, "no-such-session")
	wantRejected(t, err, ssh.Prohibited, "framebuffer for a session the person never agreed to")
	_, _, err = g.conn.OpenChannel(protocol.FramebufferChannel, []byte{0, 0, 0, 9, 'x'})
	wantRejected(t, err, ssh.ConnectionFailed, "malformed channel reference")
	err = g.open("session", "s1")
	wantRejected(t, err, ssh.UnknownChannelType, "a channel type the agent does not serve")
	select {
	case typ := <-served:
		t.Fatalf("the agent served %s", typ)
	default:
	}
	// What the person allowed still works, so the refusals above are the grant's doing.
	if err := g.open(protocol.FramebufferChannel, "s1"); err != nil {
		t.Fatalf("framebuffer in a view session: %v", err)
	}
	if typ := <-served; typ != protocol.FramebufferChannel {
		t.Fatalf("served %s", typ)
	}
	if s := a.Sessions(); len(s) != 1 || s[0].Technician != "mallory[2J" || s[0].Grant != protocol.GrantView {
		t.Fatalf("agent's sessions %+v", s)
	}
	// The person ends the session: its channels stop being served and the session channel
	// closes, which the gateway reads as the end.
	a.End()
	if _, err := io.ReadAll(ch); err != nil {
		t.Fatalf("session channel after End: %v", err)
	}
	testenv.WaitFor(t, 5*time.Second, "the session to leave the agent's list", func() bool { return len(a.Sessions()) == 0 })
	err = g.open(protocol.FramebufferChannel, "s1")
	wantRejected(t, err, ssh.Prohibited, "framebuffer after the person ended the session")
}

func TestAgentDeniedConsentRejectsSession(t *testing.T) {
	served := make(chan string, 8)
	g, a := startRogue(t, testenv.FixedConsent(0), servedRoutes(served))
	_, _, err := g.openSession("s1", "alice")
	wantRejected(t, err, ssh.Prohibited, "session@ the person declined")
	if !strings.Contains(err.Error(), "declined") {
		t.Errorf("rejection %q does not say the person declined", err)
	}
	wantRejected(t, g.open(protocol.FramebufferChannel, "s1"), ssh.Prohibited, "framebuffer after a denial")
	if len(a.Sessions()) != 0 {
		t.Fatalf("sessions after a denial: %+v", a.Sessions())
	}
}

// TestAgentAtWebServerStops: an agent given a web server's address stops at once and says what
// answered, instead of retrying for ever.
func TestAgentAtWebServerStops(t *testing.T) {
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	a, err := agent.New(agent.Config{
		Gateway: web.Listener.Addr().String(), HostKeys: []ssh.PublicKey{testenv.NewKey(t).PublicKey()}, Key: testenv.NewKey(t),
		Form: tickets.Form{FullName: "Pat Person"}, Consent: testenv.FixedConsent(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ns *tickets.NotSSHError
	if err := a.Run(ctx); !errors.As(err, &ns) || ns.What != "an HTTP server" {
		t.Fatalf("agent at a web server: %v; want it to stop, naming an HTTP server", err)
	}
}
