package sshd

import (
	"errors"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// CloseRequest closes a request: its one-time credentials are revoked and their sessions ended,
// its agent is told and disconnected.
func (s *Server) CloseRequest(codeOrID, by string) (tickets.Request, error) {
	closed, err := s.cfg.Store.CloseRequest(tickets.Closing{CodeOrID: codeOrID, By: by})
	if err != nil {
		return closed.Request, err
	}
	s.logEvents(closed.Events...)
	s.finishClose(closed, by, "closed by the help desk")
	return closed.Request, nil
}

// withdrawRequest closes the request of an agent whose person no longer wants help; the agent
// hears the reply before its connection is dropped.
func (c *conn) withdrawRequest(ac *agentConn, req *ssh.Request) {
	closed, err := c.s.cfg.Store.CloseRequest(tickets.Closing{CodeOrID: ac.requestID, By: c.actor(), Withdrawn: true, Remote: c.remote})
	if err != nil {
		replyError(req, err.Error())
		return
	}
	c.s.logEvents(closed.Events...)
	req.Reply(true, nil)
	ac.log.Info("request withdrawn by the person")
	c.s.finishClose(closed, "the person", "withdrawn by the person")
}

// finishClose ends the sessions of a closed request's revoked credentials and tells and drops
// its agent.
func (s *Server) finishClose(closed tickets.Closed, by, reason string) {
	for _, c := range closed.Revoked {
		if ss := s.liveSession(c.Fingerprint); ss != nil {
			ss.end(&sessionEnd{Reason: "the request was closed by " + by, State: tickets.CredentialRevoked})
		}
	}
	if ac := s.agentFor(closed.Request.ID); ac != nil {
		ac.tellClosed(by, reason)
	}
}

// tellClosed tells the agent its request was closed, and drops it.
func (ac *agentConn) tellClosed(by, reason string) {
	ac.c.sc.SendRequest(protocol.ClosedGlobal, false, ac.encode(protocol.ClosedMsg{By: by, Reason: reason}))
	ac.c.sc.Close()
}

// IssueOTC mints a one-time connection file for technician. reached is the gateway address the
// technician used, written into the file when the gateway has no configured addresses; on a
// cluster the other live gateways follow (otcGateways).
func (s *Server) IssueOTC(codeOrID, technician string, ttl time.Duration, reached string) (*tickets.OTC, tickets.Credential, error) {
	addrs, keys := s.otcGateways(reached)
	otc, issued, err := tickets.Issue(s.cfg.Store, codeOrID, technician, ttl, addrs, keys, s.cfg.Now())
	if err != nil {
		s.auditClaimed(err, technician, "request otc") // the web's Open Connection is the same mint
		return nil, tickets.Credential{}, err
	}
	s.logEvents(issued.Events...)
	return otc, issued.Credential, nil
}

// HandOver claims, assigns or releases a request (tickets.Handover) and logs its event; a
// request another technician owns is refused, and the refusal audited.
func (s *Server) HandOver(h tickets.Handover) (tickets.Handed, error) {
	handed, err := s.cfg.Store.HandOver(h)
	if err != nil {
		s.auditClaimed(err, h.By, handoverWhat(h))
		return handed, err
	}
	s.logEvents(handed.Events...)
	return handed, nil
}

// handoverWhat names the command a hand-over is.
func handoverWhat(h tickets.Handover) string {
	switch h.To {
	case h.By:
		return "request claim"
	case "":
		return "request release"
	}
	return "request assign"
}

// AddNote adds a technician's note to a request and logs its event.
func (s *Server) AddNote(n tickets.Noting) (tickets.Noted, error) {
	noted, err := s.cfg.Store.AddNote(n)
	if err != nil {
		return noted, err
	}
	s.logEvents(noted.Events...)
	return noted, nil
}

// auditClaimed audits, as refused, what who tried on a request another technician owns, when
// err says so.
func (s *Server) auditClaimed(err error, who, what string) {
	var ce *tickets.ClaimedError
	if errors.As(err, &ce) {
		s.audit(tickets.Event{Kind: "refused", Actor: who, Request: ce.Code,
			Attrs: map[string]string{"what": what, "reason": "claimed by " + ce.Owner, "owner": ce.Owner}})
	}
}
