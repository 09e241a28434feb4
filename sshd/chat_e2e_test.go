package sshd_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/viewer"
)

// chatTo opens a viewer session for code and its chat.
func chatTo(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, code string) (*viewer.Session, *viewer.Chat) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, g.IssueOTC(t, tech, code))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := s.Chat()
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	return s, c
}

func heard(t *testing.T, a *testenv.Agent) agent.ChatMessage {
	t.Helper()
	return *a.WaitEvent(t, agent.EventChat, 10*time.Second).Chat
}

func next(t *testing.T, c *viewer.Chat) (string, string) {
	t.Helper()
	from, text, err := c.Next()
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	return from, text
}

// TestChatBeforeAndDuringSession: the technician and the person chat before the person was
// asked anything (nobody is asked for chat) and on during the session; the gateway names the
// sender, strips escapes, and audits sizes without the text.
func TestChatBeforeAndDuringSession(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	consent := &testenv.RecordingConsent{Grant: protocol.GrantView}
	a := g.StartAgent(t, testenv.AgentOptions{Consent: consent, Routes: map[string]agent.Route{protocol.FramebufferChannel: echoRoute(protocol.GrantView)}})
	s, c := chatTo(t, g, alice, a.Code())

	if err := c.Say("I'll connect in a minute \x1b[31m<b>"); err != nil {
		t.Fatal(err)
	}
	if m := heard(t, a); m.From != "alice" || m.Text != "I'll connect in a minute [31m<b>" {
		t.Errorf("the person read %+v", m)
	}
	if len(consent.Asks()) != 0 {
		t.Fatal("chat asked the person for consent")
	}
	if err := a.Say("ok, thanks"); err != nil {
		t.Fatal(err)
	}
	if from, text := next(t, c); from != "person" || text != "ok, thanks" {
		t.Errorf("the technician read %s: %q", from, text)
	}

	// The session starts; chat goes on beside it.
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatal(viewer.ChannelError("framebuffer", err))
	}
	go ssh.DiscardRequests(reqs)
	defer ch.Close()
	a.WaitEvent(t, agent.EventSessionStarted, 10*time.Second)
	if err := c.Say("I can see it now"); err != nil {
		t.Fatal(err)
	}
	if m := heard(t, a); m.Text != "I can see it now" {
		t.Errorf("during the session the person read %+v", m)
	}
	if err := a.Say("great"); err != nil {
		t.Fatal(err)
	}
	if _, text := next(t, c); text != "great" {
		t.Errorf("during the session the technician read %q", text)
	}

	msgs := events(t, g, "chat.message")
	if len(msgs) != 4 {
		t.Fatalf("%d chat.message events, want 4", len(msgs))
	}
	if m := msgs[0].Attrs; m["from"] != "alice" || m["bytes"] != "32" || m["text"] != "" {
		t.Errorf("first chat event %v: want from alice, 32 bytes, no text", m)
	}
	if m := msgs[1].Attrs; m["from"] != "person" || m["bytes"] != "10" {
		t.Errorf("second chat event %v", m)
	}
}

// TestChatKeepsTextWhenTold: with KeepChat the audit trail holds what was said.
func TestChatKeepsTextWhenTold(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) { c.KeepChat = true }})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{})
	_, c := chatTo(t, g, alice, a.Code())
	c.Say("hello there")
	heard(t, a)
	waitEvent(t, g, "chat.message", map[string]string{"from": "alice", "text": "hello there", "bytes": "11"})
}

// TestChatOnlyForTheSessionsRequest: a one-time session cannot chat with another request's
// person, and the refusal is audited.
func TestChatOnlyForTheSessionsRequest(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	mine := g.StartAgent(t, testenv.AgentOptions{})
	other := g.StartAgent(t, testenv.AgentOptions{})
	s, _ := chatTo(t, g, alice, mine.Code())
	_, _, err := s.OpenChannel(protocol.ChatChannel, ssh.Marshal(protocol.ChatOpen{RequestCode: other.Code()}))
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited || !strings.Contains(oce.Message, "only about request "+mine.Code()) {
		t.Fatalf("chat for %s on %s's session: %v, want refused", other.Code(), mine.Code(), err)
	}
	waitRefused(t, g, "otc-"+mine.Code(), "channel "+protocol.ChatChannel)
	select {
	case e := <-other.Events:
		if e.Kind == agent.EventChat {
			t.Fatalf("the other person heard %+v", e.Chat)
		}
	default:
	}
}

// TestChatRateLimited: past its burst a side's messages are not passed on, and it is told.
func TestChatRateLimited(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{})
	_, c := chatTo(t, g, alice, a.Code())
	for range 20 {
		c.Say("spam")
	}
	from, text := next(t, c)
	if from != "gateway" || !strings.Contains(text, "slow down") {
		t.Fatalf("after a burst the technician read %s: %q, want the gateway saying slow down", from, text)
	}
	if n := len(events(t, g, "chat.message")); n >= 20 {
		t.Errorf("%d of 20 messages passed", n)
	}
}
