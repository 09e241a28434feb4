package sshd

import (
	"errors"
	"log/slog"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// agentConn is an agent's reverse connection: while it is up, its request is online and sessions
// reach the person through it.
type agentConn struct {
	sc        *ssh.ServerConn
	requestID string
	code      string
	log       *slog.Logger
}

// serveAgent handles an agent's connection: one request filed or resumed, keepalives, and no
// channels from its side.
func (s *Server) serveAgent(sc *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, log *slog.Logger) {
	go s.refuseChannels(chans, sc, log, "agents open no channels")
	stop := make(chan struct{})
	defer close(stop)
	go s.keepalive(sc, stop, log)
	var ac *agentConn
	for r := range reqs {
		switch r.Type {
		case tickets.RequestGlobal:
			if ac != nil {
				replyError(r, "this connection already holds request "+ac.code)
				continue
			}
			var err error
			ac, err = s.fileRequest(sc, r, log)
			if err != nil {
				log.Info("request refused", "err", err)
				s.audit(tickets.Event{Kind: "request.refused", Actor: actorOf(sc.User(), sc.Permissions), Remote: sc.RemoteAddr().String(), Attrs: map[string]string{"reason": err.Error()}})
				replyError(r, err.Error())
			}
		case "keepalive@openssh.com":
			r.Reply(false, nil)
		default:
			s.refuseRequest(r, sc, log)
		}
	}
	if ac != nil {
		s.agentGone(ac)
	}
}

func replyError(r *ssh.Request, msg string) {
	r.Reply(false, ssh.Marshal(tickets.ErrorReply{Message: msg}))
}

// fileRequest stores a new request or resumes the open one bound to the agent's key, registers
// the connection as the request's agent and answers with the code.
func (s *Server) fileRequest(sc *ssh.ServerConn, r *ssh.Request, log *slog.Logger) (*agentConn, error) {
	form, err := tickets.DecodeForm(r.Payload)
	if err != nil {
		return nil, err
	}
	fp := sc.Permissions.Extensions[extFingerprint]
	remote := sc.RemoteAddr().String()
	resumed := true
	req, err := s.cfg.Store.UpdateRequest(s.agentRequestID(fp), func(r *tickets.Request) error {
		r.LocalIP, r.RemoteAddr = form.LocalIP, remote
		return nil
	})
	if errors.Is(err, tickets.ErrNotFound) {
		resumed = false
		req, err = s.cfg.Store.CreateRequest(tickets.Request{
			FullName: form.FullName, UserName: form.UserName, Computer: form.Computer, Email: form.Email,
			Phone: form.Phone, Message: form.Message, LocalIP: form.LocalIP, RemoteAddr: remote, AgentKey: fp,
		})
	}
	if err != nil {
		return nil, err
	}
	kind := "request.filed"
	if resumed {
		kind = "request.resumed"
	}
	s.audit(tickets.Event{Kind: kind, Actor: actorOf(sc.User(), sc.Permissions), Request: req.Code, Remote: remote,
		Attrs: map[string]string{"full_name": req.FullName, "computer": req.Computer, "local_ip": req.LocalIP}})
	ac := &agentConn{sc: sc, requestID: req.ID, code: req.Code, log: log.With("request", req.Code)}
	s.mu.Lock()
	old := s.agents[req.ID]
	s.agents[req.ID] = ac
	s.mu.Unlock()
	if old != nil {
		old.log.Info("agent replaced by a new connection of the same key")
		old.sc.Close()
	}
	r.Reply(true, ssh.Marshal(tickets.RequestReply{Code: req.Code, Resumed: resumed}))
	ac.log.Info("agent online", "resumed", resumed)
	return ac, nil
}

// agentRequestID returns the ID of the open request bound to fp, or a value that finds nothing.
func (s *Server) agentRequestID(fp string) string {
	r, err := s.cfg.Store.OpenRequestByAgent(fp)
	if err != nil {
		return "-"
	}
	return r.ID
}

// agentGone unregisters an agent whose connection ended, unless a newer one replaced it.
func (s *Server) agentGone(ac *agentConn) {
	s.mu.Lock()
	if s.agents[ac.requestID] == ac {
		delete(s.agents, ac.requestID)
	}
	s.mu.Unlock()
	ac.log.Info("agent disconnected")
	s.audit(tickets.Event{Kind: "agent.disconnected", Actor: actorOf(ac.sc.User(), ac.sc.Permissions), Request: ac.code, Remote: ac.sc.RemoteAddr().String()})
}

// agentFor returns the live agent of a request, or nil.
func (s *Server) agentFor(requestID string) *agentConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agents[requestID]
}

// Online reports whether the request's agent is connected.
func (s *Server) Online(requestID string) bool { return s.agentFor(requestID) != nil }

// keepalive drops a connection whose peer stopped answering.
func (s *Server) keepalive(sc *ssh.ServerConn, stop <-chan struct{}, log *slog.Logger) {
	t := time.NewTicker(s.cfg.KeepaliveInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		answered := make(chan error, 1)
		go func() {
			_, _, err := sc.SendRequest("keepalive@openssh.com", true, nil)
			answered <- err
		}()
		select {
		case err := <-answered:
			if err == nil {
				continue
			}
		case <-time.After(3 * s.cfg.KeepaliveInterval):
		case <-stop:
			return
		}
		log.Info("peer stopped answering keepalives; closing")
		sc.Close()
		return
	}
}
