package sshd_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

// behindProxy is a desk whose agent reaches the gateway through a link the test cuts.
func behindProxy(t *testing.T, configure func(*sshd.Config)) (*desk, *linkproxy.Proxy) {
	t.Helper()
	d := &desk{served: make(chan string, 16), consent: &testenv.RecordingConsent{Grant: protocol.GrantView | protocol.GrantControl}}
	d.g = testenv.StartGateway(t, testenv.Options{Configure: configure})
	d.alice = d.g.AddTechnician(t, "alice", false)
	p, err := linkproxy.Start(d.g.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	d.agent = d.g.StartAgent(t, testenv.AgentOptions{Consent: d.consent, Routes: d.routes(), Via: p.Addr})
	return d, p
}

// waitClosed waits until ch's peer closed it.
func waitClosed(t *testing.T, ch ssh.Channel, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, ch)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still open 10s after the link was cut", what)
	}
}

// TestSessionSurvivesAgentReconnect: the agent's link drops during a session and comes back
// within the grace period. The viewer is told the agent is away, its screen channel closes,
// and the same channel type opened again reaches the agent once it is back; the person is not
// asked again, and the one-time file is neither spent nor refused meanwhile.
func TestSessionSurvivesAgentReconnect(t *testing.T) {
	d, link := behindProxy(t, nil)
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	fb := openEcho(t, s, protocol.FramebufferChannel)
	<-d.served

	link.Cut()
	waitClosed(t, fb, "the screen channel")
	testenv.WaitFor(t, 10*time.Second, "the viewer to hear the agent is away", func() bool { return s.Away() != "" })
	if !strings.Contains(s.Away(), "waiting up to") {
		t.Errorf("away reason %q does not say the session waits", s.Away())
	}
	waitEvent(t, d.g, "session.away", map[string]string{"credential": credential(t, d.g, o).ID})
	if c := credential(t, d.g, o); c.State != tickets.CredentialActive {
		t.Fatalf("credential %s while the agent is away, want active", c.State)
	}

	// Opened while the agent is away, the channel waits for it instead of failing.
	opened := make(chan error, 1)
	go func() {
		ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
		if err == nil {
			go ssh.DiscardRequests(reqs)
			_, err = ch.Write([]byte("again"))
			got := make([]byte, 5)
			if err == nil {
				_, err = io.ReadFull(ch, got)
			}
			if err == nil && string(got) != "again" {
				err = errors.New("echo " + string(got))
			}
		}
		opened <- err
	}()
	link.Restore()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("screen after the agent came back: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the screen channel did not reach the agent after the link came back")
	}
	testenv.WaitFor(t, 10*time.Second, "the viewer to hear the agent is back", func() bool { return s.Away() == "" })
	waitEvent(t, d.g, "session.resumed", nil)
	if asks := d.consent.Asks(); len(asks) != 1 {
		t.Errorf("the person was asked %d times, want once: a resumed session is the same session", len(asks))
	}

	// The same one-time file still opens the live session (an sftp beside the viewer).
	s2, err := dialOTC(t, o)
	if err != nil {
		t.Fatalf("the .otc after the agent came back: %v", err)
	}
	openEcho(t, s2, protocol.InputChannel)
	select {
	case <-s.Ended():
		t.Fatalf("the session ended: %s", s.EndReason())
	default:
	}
}

// TestSessionEndsWhenAgentStaysAway: an agent that does not come back within the grace period
// ends the session, and the viewer is told so in words.
func TestSessionEndsWhenAgentStaysAway(t *testing.T) {
	d, link := behindProxy(t, func(c *sshd.Config) { c.AgentGrace = 200 * time.Millisecond })
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s, protocol.FramebufferChannel)
	link.Cut()
	select {
	case <-s.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end while the agent stayed away")
	}
	if r := s.EndReason(); !strings.Contains(r, "did not come back within 200ms") {
		t.Fatalf("session ended because %q, want that the agent did not come back", r)
	}
	waitEvent(t, d.g, "credential.spent", map[string]string{"credential": credential(t, d.g, o).ID})
}
