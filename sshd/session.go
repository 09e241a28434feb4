package sshd

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// session is a one-time credential's live session: the technician's connections made with it,
// the person's answer, and the session channel to the agent that carries that answer.
type session struct {
	s    *Server
	cred tickets.Credential
	log  *slog.Logger

	mu      sync.Mutex
	conns   map[*ssh.ServerConn]struct{}
	grace   *time.Timer
	ended   bool
	done    chan struct{} // closed when end has recorded everything
	consent *consent      // nil until the first channel asks
}

// consent is the person's answer, asked once per session; later channels wait for the first ask.
type consent struct {
	done  chan struct{}
	grant tickets.Grant
	err   error
	ch    ssh.Channel // the session channel to the agent
	mu    sync.Mutex
}

func (c *consent) current() tickets.Grant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grant
}

// credentialRefusal says why a credential cannot log in now, or "" if it can.
func (s *Server) credentialRefusal(c tickets.Credential) string {
	switch c.State {
	case tickets.CredentialRevoked:
		return "credential revoked"
	case tickets.CredentialSpent:
		return "credential already used"
	case tickets.CredentialIssued:
		if !s.cfg.Now().Before(c.Expires) {
			return "credential expired"
		}
		return ""
	case tickets.CredentialActive:
		if s.liveSession(c.Fingerprint) != nil {
			return ""
		}
		return "credential already used"
	}
	return "credential in unknown state"
}

func (s *Server) liveSession(fp string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[fp]; ss != nil && !ss.isEnded() {
		return ss
	}
	return nil
}

func (ss *session) isEnded() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ended
}

// claimCredential starts the credential's session on first use, or admits another connection
// to its live session. The store transition issued → active happens once, in one transaction.
func (s *Server) claimCredential(fp string) error {
	if s.liveSession(fp) != nil {
		return nil
	}
	now := s.cfg.Now()
	cred, err := s.cfg.Store.UpdateCredential(fp, func(c *tickets.Credential) error {
		if !c.Usable(now) {
			return errors.New("credential no longer usable")
		}
		c.State, c.Used = tickets.CredentialActive, now.UTC()
		return nil
	})
	if err != nil {
		return err
	}
	ss := &session{s: s, cred: cred, conns: map[*ssh.ServerConn]struct{}{}, done: make(chan struct{}),
		log: s.log.With("request", cred.RequestCode, "technician", cred.Technician, "credential", cred.ID)}
	s.mu.Lock()
	s.sessions[fp] = ss
	s.mu.Unlock()
	if _, err := s.cfg.Store.UpdateRequest(cred.RequestID, func(r *tickets.Request) error {
		if r.Open() {
			r.State = tickets.StateActive
		}
		return nil
	}); err != nil {
		ss.log.Error("mark request active", "err", err)
	}
	s.audit(tickets.Event{Kind: "credential.used", Actor: cred.Technician, Request: cred.RequestCode, Attrs: map[string]string{"credential": cred.ID}})
	ss.log.Info("session started")
	return nil
}

// join adds a connection to the session; it fails if the session ended meanwhile.
func (ss *session) join(sc *ssh.ServerConn) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return false
	}
	if ss.grace != nil {
		ss.grace.Stop()
		ss.grace = nil
	}
	ss.conns[sc] = struct{}{}
	return true
}

// leave removes a connection; after the last one, the session ends unless another connection
// joins within the grace period (the viewer reconnecting, or sftp started a moment later).
func (ss *session) leave(sc *ssh.ServerConn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.conns, sc)
	if len(ss.conns) == 0 && !ss.ended {
		ss.grace = time.AfterFunc(ss.s.cfg.CredentialGrace, func() { ss.end("the technician disconnected", tickets.CredentialSpent) })
	}
}

// end closes the session for good: its connections are told why and closed, the agent's
// session channel is closed, and the credential becomes spent or revoked. Later calls wait
// until the first has recorded all that, so the gateway can shut down after every session ended.
func (ss *session) end(reason string, state tickets.CredentialState) {
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		<-ss.done
		return
	}
	ss.ended = true
	defer close(ss.done)
	if ss.grace != nil {
		ss.grace.Stop()
	}
	conns := make([]*ssh.ServerConn, 0, len(ss.conns))
	for c := range ss.conns {
		conns = append(conns, c)
	}
	cs := ss.consent
	ss.mu.Unlock()

	for _, c := range conns {
		c.SendRequest(tickets.EndedGlobal, false, ssh.Marshal(tickets.EndedMsg{Reason: reason}))
		c.Close()
	}
	if cs != nil {
		<-cs.done
		if cs.ch != nil {
			cs.ch.Close()
		}
	}
	now := ss.s.cfg.Now().UTC()
	if _, err := ss.s.cfg.Store.UpdateCredential(ss.cred.Fingerprint, func(c *tickets.Credential) error {
		if c.State == tickets.CredentialActive || c.State == tickets.CredentialIssued {
			c.State, c.Ended = state, now
		}
		return nil
	}); err != nil {
		ss.log.Error("record credential end", "err", err)
	}
	if _, err := ss.s.cfg.Store.UpdateRequest(ss.cred.RequestID, func(r *tickets.Request) error {
		if r.State == tickets.StateActive {
			r.State = tickets.StateWaiting
		}
		return nil
	}); err != nil {
		ss.log.Error("mark request waiting", "err", err)
	}
	ss.s.audit(tickets.Event{Kind: "session.ended", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: map[string]string{"credential": ss.cred.ID, "cause": reason, "credential_state": string(state)}})
	if state == tickets.CredentialSpent {
		ss.s.audit(tickets.Event{Kind: "credential.spent", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: map[string]string{"credential": ss.cred.ID}})
	}
	ss.log.Info("session ended", "cause", reason)
}

// ask returns the person's answer, asking the agent on the first call. Every caller waits for
// the same answer.
func (ss *session) ask() (tickets.Grant, error) {
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return 0, errors.New("session ended")
	}
	cs := ss.consent
	first := cs == nil
	if first {
		cs = &consent{done: make(chan struct{})}
		ss.consent = cs
	}
	ss.mu.Unlock()
	if first {
		cs.ch, cs.grant, cs.err = ss.askAgent()
		if errors.Is(cs.err, errAgentOffline) {
			// Nobody was asked: the next channel asks again once the agent is back, with
			// the same one-time file.
			ss.mu.Lock()
			if ss.consent == cs {
				ss.consent = nil
			}
			ss.mu.Unlock()
		}
		close(cs.done)
	}
	<-cs.done
	if cs.err != nil {
		return 0, cs.err
	}
	return cs.current(), nil
}

// endIfUnanswered ends the session when asking the person failed (declined, no answer, agent
// offline). Callers refuse their channel first: ending closes the connection, and a refusal
// sent after that never reaches the viewer, which would see a bare closed connection.
func (ss *session) endIfUnanswered() {
	ss.mu.Lock()
	cs := ss.consent
	ss.mu.Unlock()
	if cs == nil {
		return
	}
	<-cs.done
	if cs.err != nil && !errors.Is(cs.err, errAgentOffline) {
		ss.end(cs.err.Error(), tickets.CredentialSpent)
	}
}

// errAgentOffline is the person's agent not being connected: nobody was asked, and the session
// may try again when the agent reconnects.
var errAgentOffline = errors.New("offline")

func (ss *session) offline() error {
	return fmt.Errorf("the person's agent for request %s is %w; try again when it reconnects", ss.cred.RequestCode, errAgentOffline)
}

// askAgent opens the session channel to the agent, naming the technician, and waits for the
// person's answer.
func (ss *session) askAgent() (ssh.Channel, tickets.Grant, error) {
	ac := ss.s.agentFor(ss.cred.RequestID)
	if ac == nil {
		return nil, 0, ss.offline()
	}
	fullName := ""
	if u, err := ss.s.cfg.Store.User(ss.cred.Technician); err == nil {
		fullName = u.FullName
	}
	ss.s.audit(tickets.Event{Kind: "consent.asked", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: map[string]string{"credential": ss.cred.ID}})
	type opened struct {
		ch   ssh.Channel
		reqs <-chan *ssh.Request
		err  error
	}
	done := make(chan opened, 1)
	go func() {
		ch, reqs, err := ac.sc.OpenChannel(tickets.SessionChannel, ssh.Marshal(tickets.ConsentAsk{
			SessionID: ss.cred.ID, RequestCode: ss.cred.RequestCode, Technician: ss.cred.Technician, FullName: fullName}))
		done <- opened{ch, reqs, err}
	}()
	timeout := time.NewTimer(ss.s.cfg.ConsentTimeout)
	defer timeout.Stop()
	var o opened
	select {
	case o = <-done:
	case <-timeout.C:
		go func() { // close the channel if the answer comes after all
			if o := <-done; o.err == nil {
				o.ch.Close()
			}
		}()
		ss.consentAnswered(0, "no answer")
		return nil, 0, errors.New("the person did not answer in time")
	}
	if o.err != nil {
		var oce *ssh.OpenChannelError
		if errors.As(o.err, &oce) {
			ss.consentAnswered(0, oce.Message)
			// The agent refuses the session as prohibited when the person says no; its own
			// words ("the person declined") would only repeat ours.
			if oce.Reason == ssh.Prohibited {
				return nil, 0, errors.New("the person declined")
			}
			return nil, 0, fmt.Errorf("the agent refused the session: %s", clip(oce.Message))
		}
		return nil, 0, fmt.Errorf("ask the person: %w", o.err)
	}
	select {
	case r, ok := <-o.reqs:
		var g tickets.GrantMsg
		if !ok || r.Type != tickets.GrantRequest || ssh.Unmarshal(r.Payload, &g) != nil {
			o.ch.Close()
			return nil, 0, errors.New("the agent sent no valid answer")
		}
		if r.WantReply {
			r.Reply(true, nil)
		}
		grant := tickets.Grant(g.Grant)
		ss.consentAnswered(grant, "")
		if grant == 0 {
			o.ch.Close()
			return nil, 0, errors.New("the person declined")
		}
		go ss.consumeGrants(o.reqs)
		return o.ch, grant, nil
	case <-timeout.C:
		o.ch.Close()
		ss.consentAnswered(0, "no answer")
		return nil, 0, errors.New("the person did not answer in time")
	}
}

func (ss *session) consentAnswered(g tickets.Grant, note string) {
	attrs := map[string]string{"credential": ss.cred.ID, "grant": g.String()}
	if note != "" {
		attrs["note"] = clip(note)
	}
	ss.s.audit(tickets.Event{Kind: "consent.answered", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: attrs})
}

// consumeGrants applies later answers (the person narrowing what the technician may do) and
// ends the session when the agent closes the session channel.
func (ss *session) consumeGrants(reqs <-chan *ssh.Request) {
	reason := "the person's agent disconnected"
	for r := range reqs {
		if r.Type == tickets.EndRequest {
			reason = "the person ended the session"
			continue
		}
		var g tickets.GrantMsg
		if r.Type != tickets.GrantRequest || ssh.Unmarshal(r.Payload, &g) != nil {
			if r.WantReply {
				r.Reply(false, nil)
			}
			continue
		}
		ss.mu.Lock()
		cs := ss.consent
		ss.mu.Unlock()
		cs.mu.Lock()
		cs.grant &= tickets.Grant(g.Grant) // narrowing only: an agent cannot widen what was granted
		cs.mu.Unlock()
		ss.consentAnswered(cs.current(), "changed by the person")
		if r.WantReply {
			r.Reply(true, nil)
		}
	}
	ss.end(reason, tickets.CredentialSpent)
}
