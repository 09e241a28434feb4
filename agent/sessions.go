package agent

import (
	"context"
	"io"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// liveSession is a technician's session the person agreed to.
type liveSession struct {
	info   SessionInfo
	ch     ssh.Channel // the session channel; closing it ends the session
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	grant tickets.Grant
}

func (s *liveSession) currentGrant() tickets.Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grant
}

// channels dispatches the channels the gateway opens: a session asks for consent, the others
// belong to a session and are served within its grant. The agent checks the grant itself,
// whatever the gateway already checked.
func (a *Agent) channels(ctx context.Context, chans <-chan ssh.NewChannel) {
	for nc := range chans {
		if nc.ChannelType() == tickets.SessionChannel {
			go a.openSession(ctx, nc)
			continue
		}
		route, ok := a.cfg.Routes[nc.ChannelType()]
		if !ok {
			a.log.Warn("refused channel", "type", nc.ChannelType(), "reason", "not served")
			nc.Reject(ssh.UnknownChannelType, "the agent does not serve "+nc.ChannelType())
			continue
		}
		go a.openRouted(nc, route)
	}
}

// openSession asks the person and, if they agree, keeps the session until either side ends it.
func (a *Agent) openSession(ctx context.Context, nc ssh.NewChannel) {
	var ask tickets.ConsentAsk
	if err := ssh.Unmarshal(nc.ExtraData(), &ask); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed consent request")
		return
	}
	ask.Technician, ask.FullName = cleanName(ask.Technician), cleanName(ask.FullName)
	grant, err := a.cfg.Consent.Ask(ctx, ask)
	if err != nil || grant == 0 {
		a.log.Info("consent denied", "technician", ask.Technician, "err", err)
		nc.Reject(ssh.Prohibited, "the person declined")
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	sctx, cancel := context.WithCancel(ctx)
	ls := &liveSession{info: SessionInfo{ID: ask.SessionID, Technician: ask.Technician, FullName: ask.FullName, Grant: grant},
		ch: ch, ctx: sctx, cancel: cancel, grant: grant}
	// The session is known before the grant is sent: the gateway opens the first desktop
	// channel as soon as it has the answer, and that channel must find the session.
	a.mu.Lock()
	a.sessions[ask.SessionID] = ls
	a.mu.Unlock()
	if _, err := ch.SendRequest(tickets.GrantRequest, true, ssh.Marshal(tickets.GrantMsg{Grant: uint32(grant)})); err != nil {
		cancel()
		ch.Close()
		a.mu.Lock()
		delete(a.sessions, ask.SessionID)
		a.mu.Unlock()
		return
	}
	a.log.Info("session started", "technician", ask.Technician, "grant", grant.String())
	info := ls.info
	a.cfg.Events(Event{Kind: EventSessionStarted, Code: a.Code(), Session: &info})

	io.Copy(io.Discard, ch) // returns when the gateway or the person closes the session
	cancel()
	ch.Close()
	a.mu.Lock()
	delete(a.sessions, ask.SessionID)
	a.mu.Unlock()
	a.log.Info("session ended", "technician", ask.Technician)
	a.cfg.Events(Event{Kind: EventSessionEnded, Code: a.Code(), Session: &info})
}

// openRouted serves a channel of a live session, if the person's answer covers it.
func (a *Agent) openRouted(nc ssh.NewChannel, route Route) {
	var ref tickets.ChannelRef
	if err := ssh.Unmarshal(nc.ExtraData(), &ref); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed channel reference")
		return
	}
	a.mu.Lock()
	ls := a.sessions[ref.SessionID]
	a.mu.Unlock()
	if ls == nil {
		a.log.Warn("refused channel", "type", nc.ChannelType(), "reason", "no such session")
		nc.Reject(ssh.Prohibited, "no session the person agreed to")
		return
	}
	g := ls.currentGrant()
	if !g.Allows(route.Need) {
		a.log.Warn("refused channel", "type", nc.ChannelType(), "reason", "not allowed", "grant", g.String())
		nc.Reject(ssh.Prohibited, "the person allowed "+g.String()+", not "+nc.ChannelType())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	stop := context.AfterFunc(ls.ctx, func() { ch.Close() })
	defer stop()
	route.Service.Serve(ls.ctx, ch, reqs, g)
	ch.Close()
}

// Sessions lists the live sessions.
func (a *Agent) Sessions() []SessionInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]SessionInfo, 0, len(a.sessions))
	for _, s := range a.sessions {
		info := s.info
		info.Grant = s.currentGrant()
		out = append(out, info)
	}
	return out
}

// End ends every live session at the person's request: the channels close at once and the
// gateway tells the technician why.
func (a *Agent) End() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.sessions {
		s.cancel()
		s.ch.SendRequest(tickets.EndRequest, false, nil)
		s.ch.Close()
	}
}

// cleanName keeps a name from the network printable before it reaches the person's terminal.
func cleanName(s string) string {
	f, err := tickets.Form{FullName: s}.Clean()
	if err != nil {
		return "?"
	}
	return f.FullName
}
