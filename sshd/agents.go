package sshd

import (
	"errors"
	"log/slog"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// agentConn is an agent's reverse connection holding a request: while it is up, the request is
// online and sessions reach the person through it.
type agentConn struct {
	c         *conn
	requestID string
	code      string
	version   uint32 // the protocol version the agent filed with
	log       *slog.Logger
}

// encode is msg as this agent reads it. Everything the gateway sends an agent goes through it,
// so a field added in a later protocol version reaches only the agents that know it.
func (ac *agentConn) encode(msg any) []byte { return protocol.Marshal(msg, ac.version) }

// serveAgent serves an agent's connection: one request filed or resumed, keepalives, and no
// channels from its side. One goroutine reads both the requests and the channels until the
// connection closes: a gateway holds 20,000 of these, and each goroutine more is a stack each.
func (c *conn) serveAgent() {
	if hc := c.s.socketOf(c.sc); hc != nil {
		c.s.live.watch(c.ctx, c.sc, &hc.lastRead, c.log)
	}
	var ac *agentConn
	for reqs, chans := c.reqs, c.chans; reqs != nil; {
		select {
		case r, ok := <-reqs:
			if !ok {
				reqs = nil
				continue
			}
			ac = c.agentRequest(ac, r)
		case nc, ok := <-chans:
			if !ok {
				chans = nil
				continue
			}
			c.refuseChannel(nc, ssh.Prohibited, "agents open no channels")
		}
	}
	if ac != nil {
		c.s.agentGone(ac)
	}
}

// agentRequest answers one of an agent's global requests; ac is the request the connection
// holds (nil before it filed), and so is the result.
func (c *conn) agentRequest(ac *agentConn, r *ssh.Request) *agentConn {
	switch r.Type {
	case protocol.RequestGlobal:
		if ac != nil {
			replyError(r, "this connection already holds request "+ac.code)
			return ac
		}
		filed, err := c.fileRequest(r)
		if err != nil {
			c.log.Info("request refused", "err", err)
			c.audit(tickets.Event{Kind: "request.refused", Attrs: map[string]string{"reason": err.Error()}})
			replyError(r, err.Error())
		}
		return filed
	case protocol.WithdrawGlobal:
		if ac == nil {
			replyError(r, "this connection holds no request")
			return nil
		}
		c.withdrawRequest(ac, r)
	case "keepalive@openssh.com":
		r.Reply(false, nil)
	default:
		c.refuseRequest(r)
	}
	return ac
}

func replyError(r *ssh.Request, msg string) {
	r.Reply(false, ssh.Marshal(protocol.ErrorReply{Message: msg}))
}

// fileRequest stores a new request or resumes the open one bound to the agent's key, registers
// the connection as the request's agent and answers with the code.
func (c *conn) fileRequest(r *ssh.Request) (*agentConn, error) {
	s := c.s
	form, version, err := tickets.DecodeForm(r.Payload)
	if err != nil {
		return nil, err
	}
	// Resuming first: an agent back after a drop is not a new filing, so the address's filing
	// limit does not apply to it. FileRequest resumes too, should the same key file meanwhile.
	f := tickets.Filing{Form: form, AgentKey: c.key, Remote: c.remote, Actor: c.actor()}
	ip := addrOf(c.sc.RemoteAddr())
	filed, err := s.cfg.Store.ResumeRequest(f)
	if errors.Is(err, tickets.ErrNotFound) {
		if err := s.filings.file(ip); err != nil {
			return nil, err
		}
		if filed, err = s.cfg.Store.FileRequest(f); err != nil || filed.Resumed {
			s.filings.unfile(ip)
		}
	}
	if err != nil {
		return nil, err
	}
	if filed.Resumed {
		s.filings.resumed(ip)
	}
	req, resumed := filed.Request, filed.Resumed
	ac := &agentConn{c: c, requestID: req.ID, code: req.Code, version: version, log: c.log.With("request", req.Code, "protocol", version)}
	s.mu.Lock()
	old := s.agents[req.ID]
	s.agents[req.ID] = ac
	s.mu.Unlock()
	if old != nil {
		old.log.Info("agent replaced by a new connection of the same key")
		old.c.sc.Close()
	}
	if p, ok := s.cfg.Store.(clusterPresence); ok {
		if err := p.AgentOnline(req.ID); err != nil {
			ac.log.Warn("the other gateways of the cluster do not see this agent online", "err", err)
		}
	}
	// The watchers hear of the filing once the agent is registered, so they see it online.
	s.logEvents(filed.Events...)
	r.Reply(true, ac.encode(protocol.RequestReply{Code: req.Code, Resumed: resumed}))
	ac.log.Info("agent online", "resumed", resumed)
	if resumed {
		s.agentBack(ac)
	}
	return ac, nil
}

// agentGone unregisters an agent whose connection ended, unless a newer one replaced it.
func (s *Server) agentGone(ac *agentConn) {
	s.mu.Lock()
	ours := s.agents[ac.requestID] == ac
	if ours {
		delete(s.agents, ac.requestID)
	}
	s.mu.Unlock()
	if p, ok := s.cfg.Store.(clusterPresence); ok && ours {
		if err := p.AgentOffline(ac.requestID); err != nil {
			ac.log.Warn("the cluster still shows this agent online until this gateway's lease runs out", "err", err)
		}
	}
	ac.log.Info("agent disconnected")
	ac.c.audit(tickets.Event{Kind: "agent.disconnected", Request: ac.code})
}

// agentFor returns the live agent of a request, or nil.
func (s *Server) agentFor(requestID string) *agentConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agents[requestID]
}

// Online reports whether the request's agent is connected: to this gateway, or, on a cluster, to
// another one.
func (s *Server) Online(requestID string) bool {
	if s.agentFor(requestID) != nil {
		return true
	}
	p, ok := s.cfg.Store.(clusterPresence)
	return ok && p.Online(requestID)
}

// clusterPresence is a store several gateways share that knows which of them holds each agent
// (tickets/etcdstore): under each gateway's lease, so a dead gateway's agents show offline
// everywhere within the lease's TTL.
type clusterPresence interface {
	AgentOnline(requestID string) error
	AgentOffline(requestID string) error
	Online(requestID string) bool
}
