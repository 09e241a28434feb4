package sshd_test

import (
	"io"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
)

// The messages as version 1 agents, already deployed, encode and decode them: literal structs,
// so that a change to the protocol package cannot change what this test speaks.
type (
	formV1 struct {
		Version                                                      uint32
		FullName, UserName, Computer, Email, Phone, Message, LocalIP string
	}
	requestReplyV1 struct {
		Code    string
		Resumed bool
	}
	consentAskV1 struct{ SessionID, RequestCode, Technician, FullName string }
	grantV1      struct{ Grant uint32 }
	channelRefV1 struct{ SessionID string }
)

// TestVersion1AgentGetsAsked: an agent of protocol version 1 files, is asked for consent in the
// layout it decodes (strictly: trailing bytes are an error to it), answers, and serves the
// technician's screen.
func TestVersion1AgentGetsAsked(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	old := mustDial(t, g, protocol.AgentUser, testenv.NewKey(t))
	sessions := old.HandleChannelOpen(protocol.SessionChannel)
	screens := old.HandleChannelOpen(protocol.FramebufferChannel)
	ok, reply, err := old.SendRequest(protocol.RequestGlobal, true, ssh.Marshal(formV1{Version: 1, FullName: "Pat Old", Computer: "vm"}))
	var rr requestReplyV1
	if err != nil || !ok || ssh.Unmarshal(reply, &rr) != nil {
		t.Fatalf("version 1 filing: ok %v, reply %q, %v", ok, reply, err)
	}
	waitLog(t, g.Logs, `msg="agent online" .*request=`+rr.Code+` protocol=1`)

	s, err := dialOTC(t, g.IssueOTC(t, alice, rr.Code))
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
		if err == nil {
			go ssh.DiscardRequests(reqs)
			_, err = io.ReadFull(ch, make([]byte, 5))
		}
		opened <- err
	}()
	var nc ssh.NewChannel
	select {
	case nc = <-sessions:
	case <-time.After(20 * time.Second):
		t.Fatal("the version 1 agent was never asked")
	}
	var ask consentAskV1
	if err := ssh.Unmarshal(nc.ExtraData(), &ask); err != nil {
		t.Fatalf("a version 1 agent cannot decode the consent question %x: %v", nc.ExtraData(), err)
	}
	if ask.Technician != "alice" || ask.RequestCode != rr.Code {
		t.Errorf("asked %+v, want alice for %s", ask, rr.Code)
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	defer ch.Close()
	if _, err := ch.SendRequest(protocol.GrantRequest, true, ssh.Marshal(grantV1{uint32(protocol.GrantView)})); err != nil {
		t.Fatal(err)
	}
	select {
	case nc = <-screens:
	case <-time.After(20 * time.Second):
		t.Fatal("the screen never reached the version 1 agent")
	}
	var ref channelRefV1
	if err := ssh.Unmarshal(nc.ExtraData(), &ref); err != nil || ref.SessionID != ask.SessionID {
		t.Fatalf("framebuffer extra data %x: %+v, %v; want session %s", nc.ExtraData(), ref, err, ask.SessionID)
	}
	screen, sreqs, err := nc.Accept()
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(sreqs)
	screen.Write([]byte("frame"))
	if err := <-opened; err != nil {
		t.Fatalf("the technician's screen through a version 1 agent: %v", err)
	}
	waitEvent(t, g, "consent.answered", map[string]string{"grant": "view"})
}
