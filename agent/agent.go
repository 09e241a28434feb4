// Package agent is the side of the person who asks for help: it files the request over a reverse
// SSH connection to the gateway, keeps that connection up (reconnecting and resuming the same
// request), asks the person's consent when a technician connects, and serves the screen, input
// and files within what the person allowed.
package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Service serves one channel type for a session. The agent has already checked that the
// session's grant covers the channel; grant says what else is allowed (view only, read-only files).
type Service interface {
	Serve(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, grant protocol.Grant)
}

// ServiceFunc adapts a function to Service.
type ServiceFunc func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, grant protocol.Grant)

func (f ServiceFunc) Serve(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, g protocol.Grant) {
	f(ctx, ch, reqs, g)
}

// Route is a channel type the agent serves and the grant it needs.
type Route struct {
	Need    protocol.Grant
	Service Service
}

// Consenter asks the person whether a technician may connect, and how far.
type Consenter interface {
	Ask(ctx context.Context, ask protocol.ConsentAsk) (protocol.Grant, error)
}

// Config is the agent's configuration.
type Config struct {
	Gateway string // host:port
	// Alternates are further addresses of the help desk's gateways (a stamp's later ones,
	// gateways of one cluster), tried in turn when one cannot be reached (reach.go).
	Alternates []string
	HostKeys   []ssh.PublicKey // pinned; the agent never trusts a gateway on first use
	Key        ssh.Signer      // the agent's own key; it binds the request
	Form       tickets.Form    // LocalIP is filled per connection
	Consent    Consenter
	Routes     map[string]Route // channel type → service
	Logger     *slog.Logger

	// Offer is what this agent can deliver (Offers(Routes) says it from the routes); the
	// person's answer is cut to it, so nothing that cannot work is granted. Zero offers all.
	Offer protocol.Grant

	// Events, if set, hears what happens, for the person's screen.
	Events func(Event)

	// LocalAddr, if set, is the address the agent dials from (a machine with several).
	LocalAddr   net.Addr
	DialTimeout time.Duration // 10s
	// When the gateway has been silent for KeepaliveSilence the agent asks whether it is there,
	// and ends the connection when that goes unanswered for KeepaliveTimeout, so a dead link is
	// noticed within their sum (keepalive.go). The gateway asks first, after 8 s of silence.
	KeepaliveSilence time.Duration // 9.5s
	KeepaliveTimeout time.Duration // 5s
	MaxBackoff       time.Duration // 30s
	FastRetryFor     time.Duration // 2m of one-to-two-second retries after an authenticated connection ends (reconnect.go)
	// ResumeWindow is how long a session whose connection dropped is held for the gateway to
	// resume it on the next connection (2m; the gateway's own wait is shorter and decides).
	ResumeWindow time.Duration
}

// Event tells the person's interface what happened.
type Event struct {
	Kind    EventKind
	Code    string // request code
	Resumed bool
	Session *SessionInfo
	Chat    *ChatMessage // EventChat
	Err     error
	// Controls are what the person can do from here on (withdraw, end, narrow): the agent
	// that sent the event.
	Controls Controls
}

// EventKind names an Event.
type EventKind int

const (
	EventFiled          EventKind = iota // connected and filed or resumed; Code set
	EventDisconnected                    // connection lost; Err set; a reconnect follows
	EventSessionStarted                  // Session set
	EventSessionChanged                  // the person narrowed a session's grant; Session set
	EventSessionEnded                    // Session set; Err is a *GatewayEndError when the gateway ended it
	EventEnded                           // Run returns; Err says why (ErrRequestClosed, ErrWithdrawn, …)
	EventChat                            // a technician's chat message; Chat set
	EventSessionLimit                    // the gateway will end the session soon: Session.EndsIn says when (0: not any more)
)

// Controls are what the person can do while the agent runs. *Agent has them.
type Controls interface {
	// Withdraw closes the request at the gateway and stops the agent: Run returns ErrWithdrawn,
	// or, when the gateway could not be told, Withdraw's error.
	Withdraw(ctx context.Context) error
	// End ends every live session.
	End()
	// Narrow cuts a live session's grant to g, at the agent and the gateway.
	Narrow(sessionID string, g protocol.Grant) error
	// Say sends the person's chat message to the technicians chatting with them (ErrNoChat
	// when none is).
	Say(text string) error
}

// SessionInfo describes a technician's session.
type SessionInfo struct {
	ID         string
	Technician string
	FullName   string
	Grant      protocol.Grant
	// In EventSessionLimit: how long until the gateway ends the session (0: no end is near any
	// more), and why, in its words.
	EndsIn  time.Duration
	EndsWhy string
}

// ErrRequestClosed is returned by Run when the help desk closed the request.
var ErrRequestClosed = errors.New("the help desk closed the request")

// ErrWithdrawn is returned by Run when the person withdrew the request.
var ErrWithdrawn = errors.New("you withdrew the request")

// ErrOffline is returned by Withdraw when the gateway cannot be told right now.
var ErrOffline = errors.New("not connected to the help desk")

// Agent keeps one request alive. Create it with New and call Run.
type Agent struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	sessions  map[string]*liveSession
	chats     map[ssh.Channel]struct{} // open chats with technicians (chat.go)
	code      string
	conn      ssh.Conn                // the live connection, nil between connections
	stop      context.CancelCauseFunc // ends Run
	withdrawn bool                    // a withdrawal is under way or done: a close now is the person's

	at int // the address in Config.addresses() tried first: the one that served last; Run's alone

	// filing is closed when the request being filed on a new connection is filed (conn set)
	// or failed; nil when no filing is under way. The gateway lists the request before its
	// reply reaches the agent, so a withdrawal in between waits for it.
	filing chan struct{}
}

// startFiling marks a filing under way, until the returned func is called.
func (a *Agent) startFiling() func() {
	ch := make(chan struct{})
	a.mu.Lock()
	a.filing = ch
	a.mu.Unlock()
	return sync.OnceFunc(func() {
		a.mu.Lock()
		a.filing = nil
		a.mu.Unlock()
		close(ch)
	})
}

// New checks cfg and returns an agent.
func New(cfg Config) (*Agent, error) {
	switch {
	case cfg.Gateway == "":
		return nil, errors.New("agent: no gateway address")
	case len(cfg.HostKeys) == 0:
		return nil, errors.New("agent: no gateway host key: give the key line the help desk published (assistd hostkey prints it)")
	case cfg.Key == nil:
		return nil, errors.New("agent: no agent key")
	case cfg.Consent == nil:
		return nil, errors.New("agent: no way to ask the person for consent")
	}
	if _, err := cfg.Form.Clean(); err != nil {
		return nil, fmt.Errorf("agent: request form: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Events == nil {
		cfg.Events = func(Event) {}
	}
	setDefault(&cfg.DialTimeout, 10*time.Second)
	setDefault(&cfg.KeepaliveSilence, 9500*time.Millisecond)
	setDefault(&cfg.KeepaliveTimeout, 5*time.Second)
	setDefault(&cfg.FastRetryFor, 2*time.Minute)
	setDefault(&cfg.MaxBackoff, 30*time.Second)
	setDefault(&cfg.ResumeWindow, 2*time.Minute)
	if cfg.Offer == 0 {
		cfg.Offer = ^protocol.Grant(0)
	}
	return &Agent{cfg: cfg, log: cfg.Logger, sessions: map[string]*liveSession{}, chats: map[ssh.Channel]struct{}{}}, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// Code returns the request code once filed.
func (a *Agent) Code() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.code
}

// Run connects, files the request and serves until ctx ends or the request is closed. After a
// drop it reconnects (reconnect.go has the schedule) and resumes the same request. A gateway whose host
// key does not match is a permanent error.
//
// A gateway that cannot be reached before the request was ever filed is an error too: the person
// hears that, rather than "trying again" forever at an address that may be wrong.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	a.mu.Lock()
	a.stop = cancel
	a.mu.Unlock()
	err := a.run(ctx)
	a.emit(Event{Kind: EventEnded, Err: err})
	return err
}

func (a *Agent) emit(e Event) {
	if e.Code == "" {
		e.Code = a.Code()
	}
	e.Controls = a
	a.cfg.Events(e)
}

func (a *Agent) run(ctx context.Context) error {
	b := newBackoff(&a.cfg)
	for {
		err := a.connectOnce(ctx, b)
		switch {
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case errors.Is(err, ErrRequestClosed):
			a.mu.Lock()
			withdrawn := a.withdrawn
			a.mu.Unlock()
			if withdrawn {
				return ErrWithdrawn
			}
			return err
		case isPermanent(err):
			return err
		case a.Code() == "" && errors.Is(err, errDial):
			return fmt.Errorf("can't reach the help desk at %s — check your network: %w", strings.Join(a.cfg.addresses(), ", "), err)
		}
		a.emit(Event{Kind: EventDisconnected, Err: err})
		wait := b.next(time.Now())
		a.log.Info("disconnected; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(wait):
		}
	}
}

// errDial marks a failure to reach the gateway at all.
var errDial = errors.New("dial gateway")

// permanentError marks failures that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// connectOnce runs one connection from dial to drop.
func (a *Agent) connectOnce(ctx context.Context, b *backoff) error {
	gc, at, err := a.reach(ctx, a.at)
	if err != nil {
		return err
	}
	a.at = at
	nc, conn, chans, reqs := gc.nc, gc.conn, gc.chans, gc.reqs
	defer nc.Close()
	defer conn.Close()
	b.authenticated()

	closed := make(chan protocol.ClosedMsg, 1)
	reqsDone := make(chan struct{})
	go func() {
		a.globalRequests(reqs, closed)
		close(reqsDone)
	}()
	filed := a.startFiling()
	defer filed()
	form := a.cfg.Form
	form.LocalIP = localIP(nc)
	ok, reply, err := conn.SendRequest(protocol.RequestGlobal, true, tickets.EncodeForm(form))
	if err != nil {
		return fmt.Errorf("file request: %w", err)
	}
	if !ok {
		var e protocol.ErrorReply
		if ssh.Unmarshal(reply, &e) == nil && e.Message != "" {
			return &permanentError{fmt.Errorf("the gateway refused the request: %s", e.Message)}
		}
		return &permanentError{errors.New("the gateway refused the request")}
	}
	var rr protocol.RequestReply
	if err := ssh.Unmarshal(reply, &rr); err != nil {
		return fmt.Errorf("file request: malformed reply: %w", err)
	}
	a.mu.Lock()
	a.code, a.conn = rr.Code, conn
	a.mu.Unlock()
	filed()
	defer func() {
		a.mu.Lock()
		a.conn = nil
		a.mu.Unlock()
	}()
	a.log.Info("request filed", "code", rr.Code, "resumed", rr.Resumed, "local_ip", form.LocalIP)
	a.emit(Event{Kind: EventFiled, Code: rr.Code, Resumed: rr.Resumed})

	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.keepalive(connCtx, conn, gc.heard)
	go a.channels(ctx, connCtx, chans)
	done := make(chan error, 1)
	go func() { done <- conn.Wait() }()
	select {
	case <-ctx.Done():
		// Stopping the agent is the person's choice: its sessions end, rather than wait to be
		// resumed by a connection that will not come.
		a.End()
		return ctx.Err()
	case m := <-closed:
		a.log.Info("request closed", "by", m.By)
		return ErrRequestClosed
	case err := <-done:
		// The gateway sends closed@ and then drops the connection; Wait can return before
		// the request goroutine has read it. reqs is closed only after every request that
		// arrived was delivered, so wait for it before deciding this was a mere drop.
		<-reqsDone
		select {
		case <-closed:
			return ErrRequestClosed
		default:
		}
		return fmt.Errorf("connection lost: %w", err)
	}
}

func localIP(nc net.Conn) string {
	if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// globalRequests handles the gateway's global requests: the request closed, keepalives.
func (a *Agent) globalRequests(reqs <-chan *ssh.Request, closed chan<- protocol.ClosedMsg) {
	for r := range reqs {
		switch r.Type {
		case protocol.ClosedGlobal:
			var m protocol.ClosedMsg
			ssh.Unmarshal(r.Payload, &m)
			select {
			case closed <- m:
			default:
			}
		}
		if r.WantReply {
			r.Reply(false, nil) // keepalive@openssh.com and anything unknown
		}
	}
}

// Withdraw tells the gateway the person no longer wants help, so the request is closed, and
// stops Run, which returns ErrWithdrawn. When the gateway cannot be told (between connections:
// ErrOffline) Run stops all the same and returns the error, which says the request stays open.
func (a *Agent) Withdraw(ctx context.Context) error {
	err := a.withdraw(ctx)
	if err != nil {
		err = fmt.Errorf("%w; the request stays open until the help desk closes it", err)
	}
	a.mu.Lock()
	stop := a.stop
	a.mu.Unlock()
	if stop != nil {
		stop(cmp.Or(err, ErrWithdrawn))
	}
	return err
}

func (a *Agent) withdraw(ctx context.Context) error {
	a.mu.Lock()
	conn, filing := a.conn, a.filing
	a.mu.Unlock()
	if conn == nil && filing != nil {
		select {
		case <-filing:
		case <-ctx.Done():
			return fmt.Errorf("withdraw the request: %w", ctx.Err())
		}
		a.mu.Lock()
		conn = a.conn
		a.mu.Unlock()
	}
	if conn == nil {
		return ErrOffline
	}
	// Marked before asking: the gateway's closed@ may arrive before this goroutine reads the reply.
	a.setWithdrawn(true)
	type answer struct {
		ok    bool
		reply []byte
		err   error
	}
	done := make(chan answer, 1)
	go func() {
		ok, reply, err := conn.SendRequest(protocol.WithdrawGlobal, true, nil)
		done <- answer{ok, reply, err}
	}()
	var ans answer
	select {
	case <-ctx.Done():
		a.setWithdrawn(false)
		return fmt.Errorf("withdraw the request: %w", ctx.Err())
	case ans = <-done:
	}
	switch {
	case ans.err != nil:
		a.setWithdrawn(false)
		return fmt.Errorf("withdraw the request: %w (%v)", ErrOffline, ans.err)
	case !ans.ok:
		a.setWithdrawn(false)
		var e protocol.ErrorReply
		ssh.Unmarshal(ans.reply, &e)
		return fmt.Errorf("the gateway refused to withdraw the request: %s", e.Message)
	}
	a.log.Info("request withdrawn")
	return nil
}

func (a *Agent) setWithdrawn(v bool) {
	a.mu.Lock()
	a.withdrawn = v
	a.mu.Unlock()
}

// Offers is what routes can deliver: the screen, control, files.
func Offers(routes map[string]Route) protocol.Grant {
	var g protocol.Grant
	for _, r := range routes {
		g |= r.Need
	}
	if g&protocol.GrantFilesRead != 0 {
		g |= protocol.GrantFilesWrite // the files route serves writes to sessions granted them
	}
	return g
}
