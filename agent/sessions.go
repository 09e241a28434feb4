package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// liveSession is a technician's session the person agreed to. It outlives a dropped
// connection: lost, it waits ResumeWindow for the gateway to resume it on the next one.
type liveSession struct {
	info   SessionInfo
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	ch      ssh.Channel // the session channel; closing it after EndRequest ends the session
	grant   protocol.Grant
	routed  map[ssh.Channel]protocol.Grant // open channels of this session and what each needs
	lost    bool                           // the session channel went with its connection
	resumed chan sessionChannel            // a resumed session channel, for the session's goroutine
}

// sessionChannel is a session channel and its requests.
type sessionChannel struct {
	ch   ssh.Channel
	reqs <-chan *ssh.Request
}

func (s *liveSession) channel() ssh.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *liveSession) currentGrant() protocol.Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grant
}

// channels dispatches the channels the gateway opens: a session asks for consent (and lives
// under runCtx, beyond this connection), a resume takes a lost session up again, the others
// belong to a session and are served within its grant. The agent checks the grant itself,
// whatever the gateway already checked.
func (a *Agent) channels(runCtx, connCtx context.Context, chans <-chan ssh.NewChannel) {
	for nc := range chans {
		switch nc.ChannelType() {
		case protocol.SessionChannel:
			go a.openSession(runCtx, connCtx, nc)
			continue
		case protocol.ResumeChannel:
			go a.resumeSession(nc)
			continue
		case protocol.ChatChannel:
			go a.openChat(nc)
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
func (a *Agent) openSession(runCtx, ctx context.Context, nc ssh.NewChannel) {
	// The gateway speaks this agent's version, which it read from the filing.
	var ask protocol.ConsentAsk
	if err := protocol.Unmarshal(nc.ExtraData(), &ask, protocol.Version); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed consent request")
		return
	}
	ask.Technician, ask.FullName = cleanName(ask.Technician), cleanName(ask.FullName)
	grant, err := a.ask(ctx, ask)
	if err != nil || grant == 0 {
		a.log.Info("consent denied", "technician", ask.Technician, "err", err)
		msg := "the person declined"
		if errors.Is(err, context.DeadlineExceeded) {
			msg = protocol.NoAnswer
		}
		nc.Reject(ssh.Prohibited, msg)
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	sctx, cancel := context.WithCancel(runCtx)
	ls := &liveSession{info: SessionInfo{ID: ask.SessionID, Technician: ask.Technician, FullName: ask.FullName, Grant: grant},
		ch: ch, ctx: sctx, cancel: cancel, grant: grant, routed: map[ssh.Channel]protocol.Grant{}, resumed: make(chan sessionChannel, 1)}
	// The session is known before the grant is sent: the gateway opens the first desktop
	// channel as soon as it has the answer, and that channel must find the session.
	a.mu.Lock()
	a.sessions[ask.SessionID] = ls
	a.mu.Unlock()
	if _, err := ch.SendRequest(protocol.GrantRequest, true, ssh.Marshal(protocol.GrantMsg{Grant: uint32(grant)})); err != nil {
		cancel()
		ch.Close()
		go ssh.DiscardRequests(reqs)
		a.mu.Lock()
		delete(a.sessions, ask.SessionID)
		a.mu.Unlock()
		return
	}
	a.log.Info("session started", "technician", ask.Technician, "grant", grant.String())
	info := ls.info
	a.emit(Event{Kind: EventSessionStarted, Session: &info})

	held := a.holdSession(ls, ch, reqs)
	for held == errSessionLost {
		var ok bool
		if ch, reqs, ok = a.awaitResume(ls); !ok {
			break
		}
		held = a.holdSession(ls, ch, reqs)
	}
	cancel()
	ls.channel().Close()
	a.mu.Lock()
	delete(a.sessions, ask.SessionID)
	a.mu.Unlock()
	a.log.Info("session ended", "technician", ask.Technician)
	var why *GatewayEndError
	if errors.As(held, &why) {
		a.emit(Event{Kind: EventSessionEnded, Session: &info, Err: why})
		return
	}
	a.emit(Event{Kind: EventSessionEnded, Session: &info})
}

// GatewayEndError is the gateway's reason for ending a session (a time limit, the technician
// leaving, the request closed), in its words.
type GatewayEndError struct{ Reason string }

func (e *GatewayEndError) Error() string { return "the gateway ended the session: " + e.Reason }

// errSessionLost is a session channel gone with its connection, not ended by either side.
var errSessionLost = errors.New("session channel lost with its connection")

// holdSession serves the session channel until it closes. It returns errSessionLost if the
// channel went without an EndRequest from the gateway and without the person ending it.
func (a *Agent) holdSession(ls *liveSession, ch ssh.Channel, reqs <-chan *ssh.Request) error {
	go drain(ch)
	var ended error
	for r := range reqs { // closed once the channel is closed, after every request before it
		switch r.Type {
		case protocol.EndRequest:
			var m protocol.EndedMsg
			ssh.Unmarshal(r.Payload, &m)
			ended = &GatewayEndError{Reason: cleanReason(m.Reason)}
		case protocol.LimitRequest:
			var m protocol.LimitMsg
			if ssh.Unmarshal(r.Payload, &m) == nil {
				info := ls.info
				info.Grant = ls.currentGrant()
				info.EndsIn, info.EndsWhy = time.Duration(m.LeftMillis)*time.Millisecond, cleanReason(m.Why)
				a.emit(Event{Kind: EventSessionLimit, Session: &info})
			}
		}
		if r.WantReply {
			r.Reply(false, nil)
		}
	}
	switch {
	case ls.ctx.Err() != nil:
		return ls.ctx.Err()
	case ended != nil:
		a.log.Info("session ended by the gateway", "technician", ls.info.Technician, "err", ended)
		return ended
	}
	return errSessionLost
}

// drain reads what r carries until it ends, and drops it. The session channel carries no data
// (everything on it is a request), so this only keeps a misbehaving gateway from filling its
// window; with a small buffer of its own, since io.Copy to io.Discard holds an 8 KiB one from
// a pool for as long as its Read waits, that is for the session's whole life, and the gateway
// keeps a session that lost its viewer for half a minute (50 sessions one after another:
// 400 KiB of the agent's heap).
func drain(r io.Reader) {
	buf := make([]byte, 256)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// awaitResume holds a lost session until the gateway resumes it on a new connection, the
// window passes, or the person ends it.
func (a *Agent) awaitResume(ls *liveSession) (ssh.Channel, <-chan *ssh.Request, bool) {
	ls.mu.Lock()
	ls.lost = true
	ls.mu.Unlock()
	a.log.Info("session's connection lost; holding it for the gateway to resume", "technician", ls.info.Technician, "window", a.cfg.ResumeWindow)
	t := time.NewTimer(a.cfg.ResumeWindow)
	defer t.Stop()
	select {
	case sc := <-ls.resumed:
		return sc.ch, sc.reqs, true
	case <-t.C:
	case <-ls.ctx.Done():
	}
	ls.mu.Lock()
	claimed := !ls.lost // a resume took the session just now
	ls.lost = false
	ls.mu.Unlock()
	if !claimed {
		a.log.Info("session not resumed in time", "technician", ls.info.Technician)
		return nil, nil, false
	}
	sc := <-ls.resumed
	if ls.ctx.Err() != nil {
		sc.ch.Close()
		return nil, nil, false
	}
	return sc.ch, sc.reqs, true
}

// namedSession is the live session that nc's ChannelRef names, nil if there is none. If nc
// carries no ChannelRef it is rejected, and ok is false.
func (a *Agent) namedSession(nc ssh.NewChannel) (ls *liveSession, ok bool) {
	var ref protocol.ChannelRef
	if err := ssh.Unmarshal(nc.ExtraData(), &ref); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed channel reference")
		return nil, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[ref.SessionID], true
}

// resumeSession takes a lost session up again on the connection the gateway opened nc on. The
// person is not asked again: they agreed to this session, and its grant is as they left it.
func (a *Agent) resumeSession(nc ssh.NewChannel) {
	ls, ok := a.namedSession(nc)
	if !ok {
		return
	}
	if ls == nil {
		nc.Reject(ssh.Prohibited, "the person's agent holds no such session any more (it restarted, or the session ended)")
		return
	}
	ls.mu.Lock()
	if !ls.lost || ls.ctx.Err() != nil {
		ls.mu.Unlock()
		nc.Reject(ssh.Prohibited, "the person's agent is not waiting to resume that session")
		return
	}
	ls.lost = false
	ls.mu.Unlock()
	ch, reqs, err := nc.Accept()
	if err != nil {
		ls.mu.Lock()
		ls.lost = true
		ls.mu.Unlock()
		return
	}
	ls.mu.Lock()
	ls.ch = ch
	g := ls.grant
	ls.mu.Unlock()
	a.log.Info("session resumed", "technician", ls.info.Technician, "grant", g.String())
	// A failed send leaves a closed channel: the session's goroutine finds it lost again.
	ch.SendRequest(protocol.GrantRequest, true, ssh.Marshal(protocol.GrantMsg{Grant: uint32(g)}))
	ls.resumed <- sessionChannel{ch, reqs}
}

// openRouted serves a channel of a live session, if the person's answer covers it.
func (a *Agent) openRouted(nc ssh.NewChannel, route Route) {
	ls, ok := a.namedSession(nc)
	if !ok {
		return
	}
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
	ls.mu.Lock()
	ls.routed[ch] = route.Need
	ls.mu.Unlock()
	// Narrow may have run between the check above and here; it cannot have seen ch.
	if !ls.currentGrant().Allows(route.Need) {
		ch.Close()
	}
	route.Service.Serve(ls.ctx, ch, reqs, g)
	ch.Close()
	ls.mu.Lock()
	delete(ls.routed, ch)
	ls.mu.Unlock()
}

// ask asks the person within the gateway's deadline. An answer after it grants nothing: the
// gateway has already told the technician no, and the question was meant to have closed.
func (a *Agent) ask(ctx context.Context, ask protocol.ConsentAsk) (protocol.Grant, error) {
	timeout := 2 * time.Minute
	if ask.TimeoutMillis > 0 {
		timeout = time.Duration(ask.TimeoutMillis) * time.Millisecond
	}
	// A little before the gateway's own deadline, so a last-moment answer is not lost in transit.
	timeout = max(timeout-timeout/20, timeout-time.Second)
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g, err := a.cfg.Consent.Ask(actx, ask)
	if actx.Err() != nil {
		return 0, fmt.Errorf("no answer in time: %w", actx.Err())
	}
	return g & a.cfg.Offer, err
}

// Narrow cuts a live session's grant to what g allows: the agent closes the channels that need
// more, and tells the gateway, which refuses them from then on.
func (a *Agent) Narrow(sessionID string, g protocol.Grant) error {
	a.mu.Lock()
	ls := a.sessions[sessionID]
	a.mu.Unlock()
	if ls == nil {
		return fmt.Errorf("no live session %s", sessionID)
	}
	ls.mu.Lock()
	ls.grant &= g
	now := ls.grant
	var closing []ssh.Channel
	for ch, need := range ls.routed {
		if !now.Allows(need) {
			closing = append(closing, ch)
		}
	}
	ls.mu.Unlock()
	for _, ch := range closing {
		ch.Close()
	}
	if _, err := ls.channel().SendRequest(protocol.GrantRequest, true, ssh.Marshal(protocol.GrantMsg{Grant: uint32(now)})); err != nil {
		return fmt.Errorf("tell the gateway the narrowed grant: %w", err)
	}
	a.log.Info("session narrowed", "technician", ls.info.Technician, "grant", now.String())
	info := ls.info
	info.Grant = now
	a.emit(Event{Kind: EventSessionChanged, Session: &info})
	return nil
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
		ch := s.channel()
		ch.SendRequest(protocol.EndRequest, false, nil)
		ch.Close()
	}
}

// cleanReason is cleanName for the gateway's words on why a session ends: a reason longer than a
// name is cut, not lost.
func cleanReason(s string) string {
	if len(s) > tickets.MaxNameLen {
		s = strings.ToValidUTF8(s[:tickets.MaxNameLen-len("…")], "") + "…"
	}
	return cleanName(s)
}

// cleanName keeps a name from the network printable before it reaches the person's terminal.
func cleanName(s string) string {
	f, err := tickets.Form{FullName: s}.Clean()
	if err != nil {
		return "?"
	}
	return f.FullName
}
