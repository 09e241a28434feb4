package sshd_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// stubbornAgent is a hand-made agent that serves desktop channels as echoes and, when the
// person narrows the grant, tells the gateway but closes nothing itself, as an outdated or
// modified agent might: only the gateway can end the channels the narrowed grant does not cover.
type stubbornAgent struct {
	t        *testing.T
	code     string
	sessions <-chan ssh.NewChannel
	desktop  map[string]<-chan ssh.NewChannel
	session  ssh.Channel
}

func startStubbornAgent(t *testing.T, g *testenv.Gateway) *stubbornAgent {
	t.Helper()
	c := mustDial(t, g, protocol.AgentUser, testenv.NewKey(t))
	a := &stubbornAgent{t: t, sessions: c.HandleChannelOpen(protocol.SessionChannel), desktop: map[string]<-chan ssh.NewChannel{
		protocol.FramebufferChannel: c.HandleChannelOpen(protocol.FramebufferChannel),
		protocol.InputChannel:       c.HandleChannelOpen(protocol.InputChannel),
	}}
	ok, reply, err := c.SendRequest(protocol.RequestGlobal, true, tickets.EncodeForm(tickets.Form{FullName: "Pat Stubborn"}))
	var rr protocol.RequestReply
	if err != nil || !ok || ssh.Unmarshal(reply, &rr) != nil {
		t.Fatalf("filing: ok %v, reply %q, %v", ok, reply, err)
	}
	a.code = rr.Code
	return a
}

func (a *stubbornAgent) accept(nc <-chan ssh.NewChannel, what string) ssh.Channel {
	a.t.Helper()
	select {
	case n := <-nc:
		ch, reqs, err := n.Accept()
		if err != nil {
			a.t.Fatalf("accept %s: %v", what, err)
		}
		go ssh.DiscardRequests(reqs)
		return ch
	case <-time.After(20 * time.Second):
		a.t.Fatalf("the gateway never opened %s", what)
		return nil
	}
}

// answer accepts the consent question and grants g.
func (a *stubbornAgent) answer(g protocol.Grant) {
	a.t.Helper()
	a.session = a.accept(a.sessions, "the session channel")
	a.grant(g)
}

// grant sends g on the session channel and waits for the gateway to have applied it.
func (a *stubbornAgent) grant(g protocol.Grant) {
	a.t.Helper()
	if ok, err := a.session.SendRequest(protocol.GrantRequest, true, ssh.Marshal(protocol.GrantMsg{Grant: uint32(g)})); err != nil || !ok {
		a.t.Fatalf("grant %s: %v, %v", g, ok, err)
	}
}

// serve accepts the next desktop channel of type typ and echoes it; the returned channel is
// closed when the gateway closes the agent's side.
func (a *stubbornAgent) serve(typ string) <-chan struct{} {
	a.t.Helper()
	ch := a.accept(a.desktop[typ], typ)
	closed := make(chan struct{})
	go func() {
		io.Copy(ch, ch) // never closes: the gateway's close ends the read
		close(closed)
	}()
	return closed
}

// endsWithin reports whether a read on ch ends (EOF or error) within d.
func endsWithin(ch io.Reader, d time.Duration) bool {
	ended := make(chan struct{})
	go func() {
		io.Copy(io.Discard, ch)
		close(ended)
	}()
	select {
	case <-ended:
		return true
	case <-time.After(d):
		return false
	}
}

// TestNarrowedGrantRevokesSplicedInput: the person narrows control to view only and the agent
// keeps its input channel open; the gateway closes the input channel on both sides itself,
// records it, keeps the screen open and refuses input from then on.
func TestNarrowedGrantRevokesSplicedInput(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	a := startStubbornAgent(t, g)
	o := g.IssueOTC(t, alice, a.code)
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	screen := make(chan ssh.Channel, 1)
	go func() { screen <- openEcho(t, s, protocol.FramebufferChannel) }()
	a.answer(protocol.GrantView | protocol.GrantControl)
	screenAtAgent := a.serve(protocol.FramebufferChannel)
	fb := <-screen
	input := make(chan ssh.Channel, 1)
	go func() { input <- openEcho(t, s, protocol.InputChannel) }()
	inputAtAgent := a.serve(protocol.InputChannel)
	in := <-input

	a.grant(protocol.GrantView)

	if !endsWithin(in, 20*time.Second) {
		t.Fatal("the technician's input channel stays open after the person allowed view only")
	}
	select {
	case <-inputAtAgent:
	case <-time.After(20 * time.Second):
		t.Fatal("the agent's input channel stays open after the person allowed view only")
	}
	e := waitEvent(t, g, "channel.revoked", map[string]string{"type": protocol.InputChannel, "grant": "view"})
	if e.Actor != "alice" || e.Request != o.Request || e.Attrs["credential"] == "" {
		t.Errorf("revocation event %+v, want alice's, for the request, naming the credential", e)
	}
	waitLog(t, g.Logs, `msg="channel revoked: the person's answer no longer covers it".* type=`+protocol.InputChannel+` grant=view`)
	if evs := events(t, g, "channel.revoked"); len(evs) != 1 {
		t.Errorf("revocations %+v, want only the input channel's", evs)
	}

	msg := []byte("still watching")
	if _, err := fb.Write(msg); err != nil {
		t.Fatalf("the screen after narrowing: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(fb, got); err != nil || string(got) != string(msg) {
		t.Fatalf("echo over the screen after narrowing = %q, %v", got, err)
	}
	select {
	case <-screenAtAgent:
		t.Fatal("the agent's screen channel was closed; view still covers it")
	default:
	}
	_, _, err = s.OpenChannel(protocol.InputChannel, nil)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited || !strings.Contains(oce.Message, "the person allowed view; ") {
		t.Fatalf("new input after narrowing: %v, want the gateway's refusal", err)
	}
}
