package sshd

import (
	"context"

	"github.com/assistkit/assist/tickets"
)

// clusterClosings is a store several gateways share that says when any of them closes a
// request (tickets/etcdstore): the gateway holding the request's agent, or a session of it,
// may not be the one that closed it.
type clusterClosings interface {
	WatchClosed(ctx context.Context) <-chan string
}

// followClosings ends, for every request closed on another gateway, the sessions of it that
// this gateway holds and tells and drops its agent, as finishClose does on the gateway that
// closed it.
func (s *Server) followClosings(ids <-chan string) {
	for id := range ids {
		s.closedElsewhere(id)
	}
}

func (s *Server) closedElsewhere(id string) {
	s.mu.Lock()
	ac := s.agents[id]
	var live []*session
	for _, ss := range s.sessions {
		if ss.cred.RequestID == id && ss.ctx.Err() == nil {
			live = append(live, ss)
		}
	}
	s.mu.Unlock()
	if ac == nil && len(live) == 0 {
		return // closed here (finishClose did this), or nothing of it is here
	}
	r, err := s.cfg.Store.Request(id)
	if err != nil {
		s.log.Warn("a request closed on another gateway: cannot read it", "request_id", id, "err", err)
		return
	}
	if r.Open() {
		return
	}
	s.log.Info("request closed on another gateway", "request", r.Code, "by", r.ClosedBy)
	for _, ss := range live {
		ss.end(&sessionEnd{Reason: "the request was closed by " + r.ClosedBy, State: tickets.CredentialRevoked})
	}
	if ac != nil {
		ac.tellClosed(r.ClosedBy, "closed by the help desk")
	}
}
