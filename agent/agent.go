// Package agent is the side of the person who asks for help: it files the request over a reverse
// SSH connection to the gateway, keeps that connection up (reconnecting and resuming the same
// request), asks the person's consent when a technician connects, and serves the screen, input
// and files within what the person allowed.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// Service serves one channel type for a session. The agent has already checked that the
// session's grant covers the channel; grant says what else is allowed (view only, read-only files).
type Service interface {
	Serve(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, grant tickets.Grant)
}

// ServiceFunc adapts a function to Service.
type ServiceFunc func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, grant tickets.Grant)

func (f ServiceFunc) Serve(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, g tickets.Grant) {
	f(ctx, ch, reqs, g)
}

// Route is a channel type the agent serves and the grant it needs.
type Route struct {
	Need    tickets.Grant
	Service Service
}

// Consenter asks the person whether a technician may connect, and how far.
type Consenter interface {
	Ask(ctx context.Context, ask tickets.ConsentAsk) (tickets.Grant, error)
}

// Config is the agent's configuration.
type Config struct {
	Gateway  string          // host:port
	HostKeys []ssh.PublicKey // pinned; the agent never trusts a gateway on first use
	Key      ssh.Signer      // the agent's own key; it binds the request
	Form     tickets.Form    // LocalIP is filled per connection
	Consent  Consenter
	Routes   map[string]Route // channel type → service
	Logger   *slog.Logger

	// Events, if set, hears what happens, for the person's screen.
	Events func(Event)

	DialTimeout       time.Duration // 10s
	KeepaliveInterval time.Duration // 15s
	MaxBackoff        time.Duration // 30s
}

// Event tells the person's interface what happened.
type Event struct {
	Kind    EventKind
	Code    string // request code
	Resumed bool
	Session *SessionInfo
	Err     error
}

// EventKind names an Event.
type EventKind int

const (
	EventFiled        EventKind = iota // connected and filed or resumed; Code set
	EventDisconnected                  // connection lost; Err set; a reconnect follows
	EventSessionStarted
	EventSessionEnded
)

// SessionInfo describes a technician's session.
type SessionInfo struct {
	ID         string
	Technician string
	FullName   string
	Grant      tickets.Grant
}

// ErrRequestClosed is returned by Run when the help desk closed the request.
var ErrRequestClosed = errors.New("the help desk closed the request")

// Agent keeps one request alive. Create it with New and call Run.
type Agent struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*liveSession
	code     string
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
	setDefault(&cfg.KeepaliveInterval, 15*time.Second)
	setDefault(&cfg.MaxBackoff, 30*time.Second)
	return &Agent{cfg: cfg, log: cfg.Logger, sessions: map[string]*liveSession{}}, nil
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
// drop it reconnects with exponential backoff and resumes the same request. A gateway whose host
// key does not match is a permanent error.
func (a *Agent) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		start := time.Now()
		err := a.connectOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrRequestClosed):
			return err
		case isPermanent(err):
			return err
		}
		a.cfg.Events(Event{Kind: EventDisconnected, Code: a.Code(), Err: err})
		if time.Since(start) > 2*a.cfg.MaxBackoff {
			backoff = time.Second
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		a.log.Info("disconnected; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(backoff*2, a.cfg.MaxBackoff)
	}
}

// permanentError marks failures that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// connectOnce runs one connection from dial to drop.
func (a *Agent) connectOnce(ctx context.Context) error {
	d := net.Dialer{Timeout: a.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", a.cfg.Gateway)
	if err != nil {
		return fmt.Errorf("dial gateway %s: %w", a.cfg.Gateway, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(a.cfg.DialTimeout))
	conn, chans, reqs, err := ssh.NewClientConn(nc, a.cfg.Gateway, &ssh.ClientConfig{
		User:              tickets.AgentUser,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.cfg.Key)},
		HostKeyCallback:   tickets.PinnedHostKeys(a.cfg.HostKeys),
		HostKeyAlgorithms: tickets.HostKeyAlgorithms(a.cfg.HostKeys),
		Timeout:           a.cfg.DialTimeout,
	})
	if err != nil {
		var hk *tickets.HostKeyError
		if errors.As(err, &hk) {
			return &permanentError{hk}
		}
		return fmt.Errorf("ssh handshake with %s: %w", a.cfg.Gateway, err)
	}
	nc.SetDeadline(time.Time{})
	defer conn.Close()

	closed := make(chan tickets.ClosedMsg, 1)
	reqsDone := make(chan struct{})
	go func() {
		a.globalRequests(reqs, closed)
		close(reqsDone)
	}()
	form := a.cfg.Form
	form.LocalIP = localIP(nc)
	ok, reply, err := conn.SendRequest(tickets.RequestGlobal, true, tickets.EncodeForm(form))
	if err != nil {
		return fmt.Errorf("file request: %w", err)
	}
	if !ok {
		var e tickets.ErrorReply
		if ssh.Unmarshal(reply, &e) == nil && e.Message != "" {
			return &permanentError{fmt.Errorf("the gateway refused the request: %s", e.Message)}
		}
		return &permanentError{errors.New("the gateway refused the request")}
	}
	var rr tickets.RequestReply
	if err := ssh.Unmarshal(reply, &rr); err != nil {
		return fmt.Errorf("file request: malformed reply: %w", err)
	}
	a.mu.Lock()
	a.code = rr.Code
	a.mu.Unlock()
	a.log.Info("request filed", "code", rr.Code, "resumed", rr.Resumed, "local_ip", form.LocalIP)
	a.cfg.Events(Event{Kind: EventFiled, Code: rr.Code, Resumed: rr.Resumed})

	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.keepalive(connCtx, conn)
	go a.channels(connCtx, chans)
	done := make(chan error, 1)
	go func() { done <- conn.Wait() }()
	select {
	case <-ctx.Done():
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
func (a *Agent) globalRequests(reqs <-chan *ssh.Request, closed chan<- tickets.ClosedMsg) {
	for r := range reqs {
		switch r.Type {
		case tickets.ClosedGlobal:
			var m tickets.ClosedMsg
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

// keepalive closes the connection when the gateway stops answering, so Run reconnects.
func (a *Agent) keepalive(ctx context.Context, conn ssh.Conn) {
	t := time.NewTicker(a.cfg.KeepaliveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		answered := make(chan struct{})
		go func() {
			conn.SendRequest("keepalive@openssh.com", true, nil)
			close(answered)
		}()
		select {
		case <-answered:
		case <-ctx.Done():
			return
		case <-time.After(3 * a.cfg.KeepaliveInterval):
			a.log.Warn("gateway stopped answering keepalives")
			conn.Close()
			return
		}
	}
}
