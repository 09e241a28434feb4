package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd/internal/recorder"
	"github.com/assistkit/assist/tickets"
)

// session is a one-time credential's live session: the technician's connections made with it,
// the person's answer, and the session channel to the agent that carries that answer.
//
// Its context is the session's life: cancelling it with a *sessionEnd ends the session, and one
// goroutine (finish) then tells everyone the cause and records it.
type session struct {
	s      *Server
	cred   tickets.Credential
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when finish has recorded everything

	mu      sync.Mutex
	conns   map[*ssh.ServerConn]struct{}
	grace   *time.Timer
	consent *consent // nil until the first channel asks
	// The session channel to the agent (resume.go): nil before consent and while the agent is
	// away; linkChanged is closed and replaced whenever link changes.
	link        *agentLink
	linkChanged chan struct{}
	away        *time.Timer // ends the session if the agent does not come back
	awaiting    bool        // the session channel was lost and the agent is awaited
	resuming    bool
	limit       limitState // what the viewers and the agent were last told of a near end

	rec     *recorder.Recorder // nil when the session is not recorded
	refusal *sessionEnd        // set when the session may not start (its recording is required)

	// The limits (limits.go): when the technician last gave input or worked on files (unix
	// nanoseconds; 0 until the person answered), whether a warning is out, and the watcher's
	// wake-up when input may have pushed an idle end away.
	lastInput atomic.Int64
	warned    atomic.Bool
	poke      chan struct{}
}

// sessionEnd is why a session ended. Reason is meant for the remote sides: the technician's
// viewer and the person read it as it is. State is what becomes of the credential.
type sessionEnd struct {
	Reason string
	State  tickets.CredentialState
}

func (e *sessionEnd) Error() string { return e.Reason }

// spent is a session end after which the credential is spent.
func spent(reason string) *sessionEnd {
	return &sessionEnd{Reason: reason, State: tickets.CredentialSpent}
}

// endOf returns why the session of ctx ended.
func endOf(ctx context.Context) *sessionEnd {
	var e *sessionEnd
	if errors.As(context.Cause(ctx), &e) {
		return e
	}
	return spent("the session ended")
}

// consent is the person's answer, asked once per session; later channels wait for the first ask.
type consent struct {
	done  chan struct{}
	grant protocol.Grant
	err   error
	mu    sync.Mutex
	// guards are the spliced channels the grant must keep covering (revoke.go).
	guards map[*guard]struct{}
}

// answered reports whether the person answered and allowed something.
func (c *consent) answered() bool {
	select {
	case <-c.done:
		return c.err == nil
	default:
		return false
	}
}

func (c *consent) current() protocol.Grant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grant
}

// credentialRefusal says why a credential cannot log in now, or "" if it can.
func (s *Server) credentialRefusal(c tickets.Credential) string {
	_, why := tickets.CredentialRule(c, s.cfg.Now(), s.liveSession(c.Fingerprint) != nil)
	return why
}

func (s *Server) liveSession(fp string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[fp]; ss != nil && ss.ctx.Err() == nil {
		return ss
	}
	return nil
}

// claimCredential starts the credential's session on first use, or admits another connection
// to its live session. The store transition issued → active happens once, in one transaction.
func (s *Server) claimCredential(fp string) error {
	if s.liveSession(fp) != nil {
		return nil
	}
	claimed, err := s.cfg.Store.ClaimCredential(fp, s.cfg.Now())
	if err != nil {
		return err
	}
	cred := claimed.Credential
	ss := &session{s: s, cred: cred, conns: map[*ssh.ServerConn]struct{}{}, done: make(chan struct{}),
		log: s.log.With("request", cred.RequestCode, "technician", cred.Technician, "credential", cred.ID)}
	ss.ctx, ss.cancel = context.WithCancelCause(s.ctx)
	ss.linkChanged = make(chan struct{})
	ss.poke = make(chan struct{}, 1)
	s.mu.Lock()
	s.sessions[fp] = ss
	s.mu.Unlock()
	s.logEvents(claimed.Events...)
	ss.refusal = s.startRecording(ss)
	go ss.finish()
	go ss.watchLimits(time.Now())
	ss.log.Info("session started")
	return nil
}

// join adds a connection to the session; it fails if the session ended meanwhile.
func (ss *session) join(sc *ssh.ServerConn) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ctx.Err() != nil {
		return false
	}
	if ss.grace != nil {
		ss.grace.Stop()
		ss.grace = nil
	}
	ss.conns[sc] = struct{}{}
	if cs := ss.consent; cs != nil && cs.answered() {
		go tellGrant(sc, cs.current()) // a connection that joins later (an sftp beside the viewer)
	}
	if !ss.limit.end.IsZero() {
		go sc.SendRequest(protocol.LimitGlobal, false, ssh.Marshal(ss.limit.msg(time.Now())))
	}
	return true
}

// tellGrants tells every connection of the session what the person allows now.
func (ss *session) tellGrants(g protocol.Grant) {
	ss.tellConns(protocol.GrantedGlobal, ssh.Marshal(protocol.GrantMsg{Grant: uint32(g)}))
}

// tellGrant sends the grant to one connection; OpenSSH's clients ignore the request.
func tellGrant(c *ssh.ServerConn, g protocol.Grant) {
	c.SendRequest(protocol.GrantedGlobal, false, ssh.Marshal(protocol.GrantMsg{Grant: uint32(g)}))
}

// leave removes a connection; after the last one, the session ends unless another connection
// joins within the grace period (the viewer reconnecting, or sftp started a moment later).
func (ss *session) leave(sc *ssh.ServerConn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.conns, sc)
	if len(ss.conns) == 0 && ss.ctx.Err() == nil {
		ss.grace = time.AfterFunc(ss.s.cfg.CredentialGrace, func() { ss.cancel(spent("the technician disconnected")) })
	}
}

// end ends the session with why, unless it ended already, and waits until its end is recorded.
func (ss *session) end(why *sessionEnd) {
	ss.cancel(why)
	<-ss.done
}

// finish waits for the session's end and closes it for good: its connections are told why and
// closed, the agent's session channel is closed, and the credential becomes spent or revoked.
func (ss *session) finish() {
	<-ss.ctx.Done()
	defer close(ss.done)
	why := endOf(ss.ctx)
	reason, state := why.Reason, why.State
	ss.mu.Lock()
	if ss.grace != nil {
		ss.grace.Stop()
	}
	if ss.away != nil {
		ss.away.Stop()
	}
	conns := make([]*ssh.ServerConn, 0, len(ss.conns))
	for c := range ss.conns {
		conns = append(conns, c)
	}
	cs := ss.consent
	ss.mu.Unlock()

	for _, c := range conns {
		c.SendRequest(protocol.EndedGlobal, false, ssh.Marshal(protocol.EndedMsg{Reason: reason}))
		c.Close()
	}
	if cs != nil {
		<-cs.done
	}
	ss.mu.Lock()
	l := ss.link
	ss.mu.Unlock()
	if l != nil {
		// Said before the close, so the agent knows the session ended and is not lost.
		l.ch.SendRequest(protocol.EndRequest, false, l.ac.encode(protocol.EndedMsg{Reason: reason}))
		l.ch.Close()
	}
	ss.sealRecording(reason)
	if ended, err := ss.s.cfg.Store.EndSession(tickets.SessionEnd{Fingerprint: ss.cred.Fingerprint, Cause: reason, State: state}); err != nil {
		ss.log.Error("record session end", "err", err)
	} else {
		ss.s.logEvents(ended.Events...)
	}
	ss.s.mu.Lock()
	if ss.s.sessions[ss.cred.Fingerprint] == ss {
		delete(ss.s.sessions, ss.cred.Fingerprint)
	}
	ss.s.mu.Unlock()
	ss.log.Info("session ended", "cause", reason)
}

// ask returns the person's answer, asking the agent on the first call. Every caller waits for
// the same answer.
func (ss *session) ask() (protocol.Grant, error) {
	ss.mu.Lock()
	if ss.ctx.Err() != nil {
		ss.mu.Unlock()
		return 0, endOf(ss.ctx)
	}
	cs := ss.consent
	first := cs == nil
	if first {
		cs = &consent{done: make(chan struct{})}
		ss.consent = cs
	}
	ss.mu.Unlock()
	if first {
		cs.grant, cs.err = ss.askAgent()
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
		if cs.err == nil {
			ss.tellGrants(cs.grant)
		}
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
		ss.end(spent(cs.err.Error()))
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
func (ss *session) askAgent() (protocol.Grant, error) {
	ac, err := ss.s.reachAgent(ss)
	if err != nil {
		return 0, err
	}
	fullName := ""
	if u, err := ss.s.cfg.Store.User(ss.cred.Technician); err == nil {
		fullName = u.FullName
	}
	ss.s.audit(tickets.Event{Kind: "consent.asked", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: ss.s.carriers(map[string]string{"credential": ss.cred.ID}, ac.viaGateway())})
	done := make(chan openedChannel, 1)
	go func() {
		ask := protocol.ConsentAsk{SessionID: ss.cred.ID, RequestCode: ss.cred.RequestCode, Technician: ss.cred.Technician, FullName: fullName,
			TimeoutMillis: uint32(min(ss.s.cfg.ConsentTimeout.Milliseconds(), math.MaxUint32)), Recorded: ss.rec != nil}
		if ask.Recorded && ac.agentVersion() < 3 {
			// An older agent has no field for it; every agent shows the technician's name.
			ask.FullName = strings.TrimSpace(fullName + " (this session is recorded)")
		}
		ch, reqs, err := ac.openChannel(protocol.SessionChannel, ask)
		done <- openedChannel{ch, reqs, err}
	}()
	timeout := time.NewTimer(ss.s.cfg.ConsentTimeout)
	defer timeout.Stop()
	var o openedChannel
	select {
	case o = <-done:
	case <-timeout.C:
		go closeWhenOpened(done)
		ss.consentAnswered(0, "no answer")
		return 0, errors.New(protocol.NoAnswer)
	case <-ss.ctx.Done():
		go closeWhenOpened(done)
		return 0, endOf(ss.ctx)
	}
	if o.err != nil {
		var oce *ssh.OpenChannelError
		if errors.As(o.err, &oce) {
			if oce.Reason == ssh.Prohibited && oce.Message == protocol.NoAnswer {
				ss.consentAnswered(0, "no answer")
				return 0, errors.New(protocol.NoAnswer)
			}
			ss.consentAnswered(0, oce.Message)
			// The agent refuses the session as prohibited when the person says no; its own
			// words ("the person declined") would only repeat ours.
			if oce.Reason == ssh.Prohibited {
				return 0, errors.New("the person declined")
			}
			return 0, fmt.Errorf("the agent refused the session: %s", clip(oce.Message))
		}
		return 0, fmt.Errorf("ask the person: %w", o.err)
	}
	select {
	case r, ok := <-o.reqs:
		var g protocol.GrantMsg
		if !ok || r.Type != protocol.GrantRequest || ssh.Unmarshal(r.Payload, &g) != nil {
			o.ch.Close()
			return 0, errors.New("the agent sent no valid answer")
		}
		if r.WantReply {
			r.Reply(true, nil)
		}
		grant := protocol.Grant(g.Grant)
		ss.consentAnswered(grant, "")
		if grant == 0 {
			o.ch.Close()
			return 0, errors.New("the person declined")
		}
		ss.attach(ac, o.ch, o.reqs)
		return grant, nil
	case <-timeout.C:
		o.ch.Close()
		ss.consentAnswered(0, "no answer")
		return 0, errors.New(protocol.NoAnswer)
	case <-ss.ctx.Done():
		o.ch.Close()
		return 0, endOf(ss.ctx)
	}
}

// openedChannel is the outcome of opening a channel to the agent.
type openedChannel struct {
	ch   ssh.Channel
	reqs <-chan *ssh.Request
	err  error
}

// closeWhenOpened closes a channel to the agent that opens after nobody waits for it.
func closeWhenOpened(done <-chan openedChannel) {
	if o := <-done; o.err == nil {
		o.ch.Close()
	}
}

func (ss *session) consentAnswered(g protocol.Grant, note string) {
	if g != 0 {
		ss.touch() // idle is counted from the answer: the person may take a while
	}
	attrs := map[string]string{"credential": ss.cred.ID, "grant": g.String()}
	if note != "" {
		attrs["note"] = clip(note)
	}
	ss.s.audit(tickets.Event{Kind: "consent.answered", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: attrs})
	if ss.rec != nil {
		ss.rec.Consent(g.String(), note)
	}
}
