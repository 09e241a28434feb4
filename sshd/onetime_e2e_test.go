package sshd_test

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
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

// clock is a gateway clock a test can move forward.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// desk is a gateway with technician alice and one agent whose person answers grant.
type desk struct {
	g       *testenv.Gateway
	alice   *testenv.Technician
	agent   *testenv.Agent
	consent *testenv.RecordingConsent
	served  chan string // channel types the agent's routes served
}

func newDesk(t *testing.T, grant protocol.Grant, configure func(*sshd.Config)) *desk {
	t.Helper()
	d := &desk{served: make(chan string, 16), consent: &testenv.RecordingConsent{Grant: grant}}
	d.g = testenv.StartGateway(t, testenv.Options{Configure: configure})
	d.alice = d.g.AddTechnician(t, "alice", false)
	d.agent = d.g.StartAgent(t, testenv.AgentOptions{Consent: d.consent, Routes: d.routes()})
	return d
}

// routes echo on the desktop channels, and tell the test which were served.
func (d *desk) routes() map[string]agent.Route {
	route := func(need protocol.Grant) agent.Route {
		return agent.Route{Need: need, Service: agent.ServiceFunc(func(_ context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, _ protocol.Grant) {
			go ssh.DiscardRequests(reqs)
			d.served <- "served"
			io.Copy(ch, ch)
			ch.CloseWrite()
		})}
	}
	return map[string]agent.Route{
		protocol.FramebufferChannel: route(protocol.GrantView),
		protocol.InputChannel:       route(protocol.GrantView | protocol.GrantControl),
	}
}

func dialOTC(t *testing.T, o *tickets.OTC) (*viewer.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// openEcho opens typ on s and checks data crosses the splice to the agent and back.
func openEcho(t *testing.T, s *viewer.Session, typ string) ssh.Channel {
	t.Helper()
	ch, reqs, err := s.OpenChannel(typ, nil)
	if err != nil {
		t.Fatal(viewer.ChannelError(typ, err))
	}
	go ssh.DiscardRequests(reqs)
	msg := []byte("ping " + typ)
	if _, err := ch.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(ch, got); err != nil || string(got) != string(msg) {
		t.Fatalf("echo over %s = %q, %v", typ, got, err)
	}
	return ch
}

func credential(t *testing.T, g *testenv.Gateway, o *tickets.OTC) tickets.Credential {
	t.Helper()
	s, err := o.Signer()
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Store.Credential(ssh.FingerprintSHA256(s.PublicKey()))
	if err != nil {
		t.Fatalf("credential of the .otc: %v", err)
	}
	return c
}

// refusedOTC asserts a dial with o failed authentication and left both log lines.
func refusedOTC(t *testing.T, g *testenv.Gateway, o *tickets.OTC, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("one-time login accepted, want refused (%s)", reason)
	}
	if !strings.Contains(err.Error(), "refused the one-time credential") {
		t.Errorf("viewer error %q does not explain the refusal", err)
	}
	waitLog(t, g.AuthLog, `Failed publickey for otc-`+regexp.QuoteMeta(o.Request)+` from 127\.0\.0\.1 port \d+ ssh2`)
	waitLog(t, g.Logs, `msg="authentication refused" .*reason="`+regexp.QuoteMeta(reason))
}

func TestOTCReachesAgentAsVerifiedTechnician(t *testing.T) {
	d := newDesk(t, protocol.GrantView|protocol.GrantControl, nil)
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	if c := credential(t, d.g, o); c.State != tickets.CredentialIssued || c.Technician != "alice" {
		t.Fatalf("issued credential %+v", c)
	}
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s, protocol.FramebufferChannel)
	openEcho(t, s, protocol.InputChannel)

	e := d.agent.WaitEvent(t, agent.EventSessionStarted, 5*time.Second)
	if e.Session.Technician != "alice" || e.Session.FullName != "Alice Tester" || e.Code != d.agent.Code() {
		t.Errorf("agent's session started %+v for %s, want alice (Alice Tester)", e.Session, e.Code)
	}
	asks := d.consent.Asks()
	if len(asks) != 1 || asks[0].Technician != "alice" || asks[0].FullName != "Alice Tester" || asks[0].RequestCode != d.agent.Code() {
		t.Errorf("the person was asked %+v, want once, naming alice (Alice Tester) for %s", asks, d.agent.Code())
	}
	c := credential(t, d.g, o)
	if c.State != tickets.CredentialActive {
		t.Errorf("credential %s in a live session, want active", c.State)
	}
	if r, _ := d.g.Store.Request(d.agent.Code()); r.State != tickets.StateActive {
		t.Errorf("request %s during a session, want active", r.State)
	}
	for _, kind := range []string{"credential.used", "consent.asked", "consent.answered", "channel.opened"} {
		waitEvent(t, d.g, kind, map[string]string{"credential": c.ID})
	}
	waitLog(t, d.g.AuthLog, `Accepted publickey for otc-`+regexp.QuoteMeta(o.Request)+` from 127\.0\.0\.1 port \d+ ssh2: ED25519 `)
}

func TestOTCReplayAfterSessionEnded(t *testing.T) {
	d := newDesk(t, protocol.GrantView, func(c *sshd.Config) { c.CredentialGrace = 50 * time.Millisecond })
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s, protocol.FramebufferChannel)
	cred := credential(t, d.g, o)
	s.Close()
	waitEvent(t, d.g, "session.ended", map[string]string{"credential": cred.ID, "credential_state": "spent"})
	if c := credential(t, d.g, o); c.State != tickets.CredentialSpent {
		t.Fatalf("credential after its session: %s, want spent", c.State)
	}
	_, err = dialOTC(t, o)
	refusedOTC(t, d.g, o, err, "credential already used")
	if n := len(events(t, d.g, "credential.used")); n != 1 {
		t.Errorf("%d credential.used events, want 1", n)
	}
}

func TestOTCTwoConnectionsSideBySide(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	s1, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s1, protocol.FramebufferChannel)
	s2, err := dialOTC(t, o)
	if err != nil {
		t.Fatalf("second connection during a live session: %v", err)
	}
	openEcho(t, s2, protocol.FramebufferChannel)
	openEcho(t, s1, protocol.FramebufferChannel)
	if n := len(d.consent.Asks()); n != 1 {
		t.Errorf("the person was asked %d times, want once per session", n)
	}
	if n := len(events(t, d.g, "credential.used")); n != 1 {
		t.Errorf("%d credential.used events, want 1: both connections are one session", n)
	}
}

func TestOTCForOtherRequestRefused(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	b := d.g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView, Form: tickets.Form{FullName: "Bea Other"}})
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	forB := *o
	forB.Request = b.Code()
	_, err := dialOTC(t, &forB)
	refusedOTC(t, d.g, &forB, err, "credential is for request "+o.Request+", not "+b.Code())
	if c := credential(t, d.g, o); c.State != tickets.CredentialIssued {
		t.Errorf("credential after a misuse: %s, want still issued", c.State)
	}
	// The file still works for its own request.
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s, protocol.FramebufferChannel)
}

func TestOTCExpiredRefused(t *testing.T) {
	clk := &clock{}
	d := newDesk(t, protocol.GrantView, func(c *sshd.Config) { c.Now = clk.Now })
	out, errs, status := d.g.Exec(t, d.alice, "request", "otc", d.agent.Code(), "--ttl", "2m")
	if status != 0 {
		t.Fatalf("request otc --ttl 2m: %d %s", status, errs)
	}
	o, err := tickets.ParseOTC([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2*time.Minute + time.Second)
	_, err = dialOTC(t, o)
	refusedOTC(t, d.g, o, err, "credential expired")
	if c := credential(t, d.g, o); c.State != tickets.CredentialIssued {
		t.Errorf("expired credential state %s; the store keeps issued and the clock decides", c.State)
	}
}

func TestCloseRequestEndsLiveSession(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	spare := d.g.IssueOTC(t, d.alice, d.agent.Code()) // issued, never used
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	ch := openEcho(t, s, protocol.FramebufferChannel)
	if _, _, status := d.g.Exec(t, d.alice, "request", "close", d.agent.Code()); status != 0 {
		t.Fatal("request close failed")
	}
	select {
	case <-s.Ended():
	case <-time.After(5 * time.Second):
		t.Fatal("the session outlived its request")
	}
	if r := s.EndReason(); !strings.Contains(r, "request was closed by alice") {
		t.Errorf("viewer says the session ended because %q, want the request was closed", r)
	}
	if _, err := io.ReadAll(ch); err != nil && !errors.Is(err, io.EOF) {
		t.Logf("channel after close: %v", err)
	}
	for _, f := range []*tickets.OTC{o, spare} {
		if c := credential(t, d.g, f); c.State != tickets.CredentialRevoked {
			t.Errorf("credential after close: %s, want revoked", c.State)
		}
	}
	_, err = dialOTC(t, o)
	refusedOTC(t, d.g, o, err, "credential revoked")
	waitEvent(t, d.g, "session.ended", map[string]string{"credential_state": "revoked"})
	if n := len(events(t, d.g, "credential.revoked")); n != 2 {
		t.Errorf("%d credential.revoked events, want 2", n)
	}
}

// TestSecondAgentCannotTakeRequest: another key files its own request; the first stays bound
// to the first key and online through the first agent.
func TestSecondAgentCannotTakeRequest(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	first := d.agent
	second := d.g.StartAgent(t, testenv.AgentOptions{})
	if second.Code() == first.Code() {
		t.Fatalf("a second agent with another key got request %s", first.Code())
	}
	r, err := d.g.Store.Request(first.Code())
	if err != nil {
		t.Fatal(err)
	}
	if r.AgentKey != ssh.FingerprintSHA256(first.Key.PublicKey()) {
		t.Errorf("first request bound to %s, want the first agent's key", r.AgentKey)
	}
	views := listJSON(t, d.g, d.alice)
	if len(views) != 2 || !views[0].Online || !views[1].Online {
		t.Fatalf("list %+v, want both requests online", views)
	}
	// A session for the first request still reaches the first agent.
	s, err := dialOTC(t, d.g.IssueOTC(t, d.alice, first.Code()))
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s, protocol.FramebufferChannel)
	first.WaitEvent(t, agent.EventSessionStarted, 5*time.Second)
}

func TestViewOnlyRefusesInputAtGateway(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s, protocol.FramebufferChannel)
	<-d.served
	_, _, err = s.OpenChannel(protocol.InputChannel, nil)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited || !strings.Contains(oce.Message, "the person allowed view") {
		t.Fatalf("input in a view-only session: %v, want prohibited, naming what the person allowed", err)
	}
	waitRefused(t, d.g, "otc-"+o.Request, protocol.InputChannel)
	select {
	case <-d.served:
		t.Fatal("the input channel reached the agent")
	default:
	}
}

func TestOneTimeSessionRefusals(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	user := "otc-" + o.Request
	newSession := func(t *testing.T) *ssh.Session {
		sess, err := s.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		return sess
	}
	t.Run("shell", func(t *testing.T) {
		wantFailed(t, s.Client, "shell", nil, "offers only the sftp subsystem")
		waitRefused(t, d.g, user, "request shell")
	})
	t.Run("exec", func(t *testing.T) {
		wantFailed(t, s.Client, "exec", command("request list"), "offers only the sftp subsystem")
		waitRefused(t, d.g, user, "request exec")
	})
	t.Run("pty", func(t *testing.T) {
		if err := newSession(t).RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err == nil {
			t.Fatal("pty accepted")
		}
		waitRefused(t, d.g, user, "request pty-req")
	})
	t.Run("unknown subsystem", func(t *testing.T) {
		wantFailed(t, s.Client, "subsystem", command("netconf"), "offers only the sftp subsystem")
		waitRefused(t, d.g, user, "request subsystem")
	})
	t.Run("direct-tcpip", func(t *testing.T) {
		if c, err := s.Dial("tcp", d.g.Addr); err == nil {
			c.Close()
			t.Fatal("port forwarding accepted")
		}
		waitRefused(t, d.g, user, "channel direct-tcpip")
	})
	t.Run("tcpip-forward", func(t *testing.T) {
		if l, err := s.Listen("tcp", "127.0.0.1:0"); err == nil {
			l.Close()
			t.Fatal("remote forwarding accepted")
		}
		waitRefused(t, d.g, user, "request tcpip-forward")
	})
	t.Run("unknown channel", func(t *testing.T) {
		if _, _, err := s.OpenChannel("clipboard@evil.example", nil); err == nil {
			t.Fatal("unknown channel accepted")
		}
		waitRefused(t, d.g, user, "channel clipboard@evil.example")
	})
	t.Run("agent's own channel", func(t *testing.T) {
		if _, _, err := s.OpenChannel(protocol.SessionChannel, nil); err == nil {
			t.Fatal("session@ opened by a technician")
		}
		waitRefused(t, d.g, user, "channel "+protocol.SessionChannel)
	})
	t.Run("channel request on a desktop channel", func(t *testing.T) {
		ch := openEcho(t, s, protocol.FramebufferChannel)
		if ok, err := ch.SendRequest("exec", true, ssh.Marshal(struct{ C string }{"id"})); ok || err != nil {
			t.Fatalf("exec on a framebuffer channel: ok=%v err=%v", ok, err)
		}
		waitRefused(t, d.g, user, protocol.FramebufferChannel+" request exec")
	})
	if n := len(d.consent.Asks()); n != 1 {
		t.Errorf("the person was asked %d times, want once (for the framebuffer)", n)
	}
}
