package sshd

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// A session outlives a drop of the agent's connection that nobody chose. When the session
// channel to the agent is lost without an EndRequest, the session waits up to AgentGrace for
// the agent to come back: its viewers are told (AwayGlobal) and their desktop channels, which
// closed with the agent's, are held when they open again. When the agent files again, the
// gateway opens ResumeChannel to it; the agent resumes the session without asking the person
// again, and the held channels reach it. If the agent does not come back in time, or comes back
// without the session, the session ends and says why.

// agentLink is a session's channel to the person's agent on one of the agent's connections.
type agentLink struct {
	ac   agentPath
	ch   ssh.Channel
	gone chan struct{} // closed when the channel is lost or closed
}

// attach makes ch the session's channel to the agent and serves what the agent says on it.
func (ss *session) attach(ac agentPath, ch ssh.Channel, reqs <-chan *ssh.Request) {
	l := &agentLink{ac: ac, ch: ch, gone: make(chan struct{})}
	ss.mu.Lock()
	if ss.ctx.Err() != nil { // finish has run or is about to: it would not see this channel
		ss.mu.Unlock()
		ch.Close()
		go ssh.DiscardRequests(reqs)
		return
	}
	ss.link, ss.resuming, ss.awaiting = l, false, false
	if ss.away != nil {
		ss.away.Stop()
		ss.away = nil
	}
	close(ss.linkChanged)
	ss.linkChanged = make(chan struct{})
	ss.mu.Unlock()
	go ss.consumeGrants(l, reqs)
}

// currentLink returns the session's channel to the agent, waiting while the agent is away,
// until the session ends.
func (ss *session) currentLink() (*agentLink, error) {
	for {
		ss.mu.Lock()
		l, changed := ss.link, ss.linkChanged
		ss.mu.Unlock()
		if l != nil {
			select {
			case <-l.gone:
			default:
				return l, nil
			}
		}
		select {
		case <-changed:
		case <-ss.ctx.Done():
			return nil, endOf(ss.ctx)
		}
	}
}

// consumeGrants applies later answers on the session channel (the person narrowing what the
// technician may do) until the channel closes: ended on purpose by the person, or lost with
// the agent's connection.
func (ss *session) consumeGrants(l *agentLink, reqs <-chan *ssh.Request) {
	personEnded := false
	for r := range reqs {
		if r.Type == protocol.EndRequest {
			personEnded = true
			continue
		}
		var g protocol.GrantMsg
		if r.Type != protocol.GrantRequest || ssh.Unmarshal(r.Payload, &g) != nil {
			if r.WantReply {
				r.Reply(false, nil)
			}
			continue
		}
		now, _ := ss.narrow(protocol.Grant(g.Grant))
		ss.consentAnswered(now, "changed by the person")
		ss.revokeUncovered()
		ss.tellGrants(now)
		if r.WantReply {
			r.Reply(true, nil)
		}
	}
	close(l.gone)
	if personEnded {
		ss.end(spent("the person ended the session"))
		return
	}
	ss.agentAway(l)
}

// narrow cuts the session's grant to g (an agent can narrow what the person granted, never
// widen it) and says whether that changed it.
func (ss *session) narrow(g protocol.Grant) (now protocol.Grant, changed bool) {
	ss.mu.Lock()
	cs := ss.consent
	ss.mu.Unlock()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	before := cs.grant
	cs.grant &= g
	return cs.grant, cs.grant != before
}

// agentAway starts the wait for the agent after the session channel l was lost.
func (ss *session) agentAway(l *agentLink) {
	grace := ss.s.cfg.AgentGrace
	ss.mu.Lock()
	if ss.ctx.Err() != nil || ss.link != l {
		ss.mu.Unlock()
		return
	}
	ss.link, ss.awaiting = nil, true
	ss.away = time.AfterFunc(grace, func() {
		ss.cancel(spent(fmt.Sprintf("the person's agent lost its connection and did not come back within %s", grace)))
	})
	close(ss.linkChanged)
	ss.linkChanged = make(chan struct{})
	ss.mu.Unlock()
	reason := fmt.Sprintf("the person's agent lost its connection; waiting up to %s for it to come back", grace)
	ss.log.Info("agent away; session waits", "grace", grace)
	// The viewers hear first: the audit event waits for a disk write, and the technician should
	// see "reconnecting" the moment the gateway knows.
	ss.tellConns(protocol.AwayGlobal, ssh.Marshal(protocol.EndedMsg{Reason: reason}))
	ss.s.audit(tickets.Event{Kind: "session.away", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: map[string]string{"credential": ss.cred.ID}})
	if ac := ss.s.agentFor(ss.cred.RequestID); ac != nil && ac != l.ac {
		go ss.resume(ac) // the agent came back before its old connection was seen gone
	}
	if cl, ok := ss.s.cluster(); ok {
		go ss.awaitElsewhere(cl, l.ac)
	}
}

// resume asks the agent on its new connection ac to take the session up again.
func (ss *session) resume(ac agentPath) {
	ss.mu.Lock()
	if ss.ctx.Err() != nil || !ss.awaiting || ss.resuming {
		ss.mu.Unlock()
		return
	}
	ss.resuming = true
	ss.mu.Unlock()
	ch, reqs, g, err := ss.openResume(ac)
	if err != nil {
		ss.mu.Lock()
		ss.resuming = false
		ss.mu.Unlock()
		var refused *resumeRefused
		if errors.As(err, &refused) {
			ss.cancel(spent("the session could not resume: " + refused.msg))
			return
		}
		ss.log.Info("resume failed; still waiting for the agent", "err", err)
		return
	}
	ss.attach(ac, ch, reqs)
	if now, changed := ss.narrow(g); changed {
		ss.consentAnswered(now, "narrowed while the agent was away")
		ss.revokeUncovered()
		ss.tellGrants(now)
	}
	ss.log.Info("session resumed on the agent's new connection")
	ss.s.audit(tickets.Event{Kind: "session.resumed", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: map[string]string{"credential": ss.cred.ID}})
	ss.tellConns(protocol.BackGlobal, nil)
}

// resumeRefused is the agent saying it cannot resume the session.
type resumeRefused struct{ msg string }

func (e *resumeRefused) Error() string { return e.msg }

// openResume opens ResumeChannel on ac and reads the grant the agent holds.
func (ss *session) openResume(ac agentPath) (ssh.Channel, <-chan *ssh.Request, protocol.Grant, error) {
	ch, reqs, err := ac.openChannel(protocol.ResumeChannel, protocol.ChannelRef{SessionID: ss.cred.ID})
	if err != nil {
		var oce *ssh.OpenChannelError
		if errors.As(err, &oce) && (oce.Reason != ssh.ConnectionFailed || ac.viaGateway() == "") {
			return nil, nil, 0, &resumeRefused{msg: clip(oce.Message)}
		}
		return nil, nil, 0, err // and a relay that could not reach the agent: it may come back there
	}
	timeout := time.NewTimer(ss.s.cfg.AgentGrace)
	defer timeout.Stop()
	select {
	case r, ok := <-reqs:
		var g protocol.GrantMsg
		if !ok || r.Type != protocol.GrantRequest || ssh.Unmarshal(r.Payload, &g) != nil {
			ch.Close()
			return nil, nil, 0, &resumeRefused{msg: "the agent sent no valid answer"}
		}
		if r.WantReply {
			r.Reply(true, nil)
		}
		return ch, reqs, protocol.Grant(g.Grant), nil
	case <-timeout.C:
	case <-ss.ctx.Done():
	}
	ch.Close()
	return nil, nil, 0, errors.New("no answer to the resume")
}

// agentBack resumes the sessions of a request whose agent just filed again.
func (s *Server) agentBack(ac *agentConn) {
	s.mu.Lock()
	var waiting []*session
	for _, ss := range s.sessions {
		if ss.cred.RequestID == ac.requestID {
			waiting = append(waiting, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range waiting {
		go ss.resume(ac)
	}
}

// tellConns sends a global request to every connection of the session.
func (ss *session) tellConns(name string, payload []byte) {
	ss.mu.Lock()
	conns := make([]*ssh.ServerConn, 0, len(ss.conns))
	for c := range ss.conns {
		conns = append(conns, c)
	}
	ss.mu.Unlock()
	for _, c := range conns {
		c.SendRequest(name, false, payload)
	}
}
