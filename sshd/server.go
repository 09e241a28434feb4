// Package sshd is assist's gateway: an SSH server for three kinds of login — agents filing and
// holding requests, technicians running commands, and one-time sessions that reach a person's
// desktop and files — which routes a session's channels to the agent's reverse connection, enforces
// the person's consent, and writes the audit trail.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/sshd/internal/authlog"
	"github.com/assistkit/assist/tickets"
)

// Config is the gateway's configuration; zero durations and limits take the defaults shown.
type Config struct {
	Store    tickets.Store
	HostKeys []ssh.Signer
	Logger   *slog.Logger
	// AuthLog receives authentication lines in OpenSSH's wording, for fail2ban and log parsers.
	// With AuthLogSyslog each line starts with a syslog timestamp, host and "assistd[PID]: ", as
	// in /var/log/auth.log; without it, bare lines for journald or stderr.
	AuthLog       io.Writer
	AuthLogSyslog bool
	// Addresses are the host:port addresses written into .otc files. Empty means the address the
	// technician reached the gateway on.
	Addresses []string
	Now       func() time.Time

	HandshakeTimeout   time.Duration // 10s: an unauthenticated connection is dropped after this
	MaxAuthTries       int           // 6, as OpenSSH
	MaxUnauthenticated int           // 64 connections handshaking at once; more are dropped
	CredentialGrace    time.Duration // 30s after a session's last connection closes, its credential is spent
	ConsentTimeout     time.Duration // 2m for the person to answer
	KeepaliveInterval  time.Duration // 15s; an agent missing 3 keepalives is dropped
}

func (c *Config) setDefaults() error {
	if c.Store == nil {
		return errors.New("sshd: no store")
	}
	if len(c.HostKeys) == 0 {
		return errors.New("sshd: no host key")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.AuthLog == nil {
		c.AuthLog = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.HandshakeTimeout, 10*time.Second)
	setDefault(&c.MaxAuthTries, 6)
	setDefault(&c.MaxUnauthenticated, 64)
	setDefault(&c.CredentialGrace, 30*time.Second)
	setDefault(&c.ConsentTimeout, 2*time.Minute)
	setDefault(&c.KeepaliveInterval, 15*time.Second)
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Server is the gateway. Create it with New, run it with Serve, stop it with Shutdown.
type Server struct {
	cfg    Config
	log    *slog.Logger
	auth   *authlog.Logger
	unauth chan struct{} // semaphore of handshakes in progress

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*ssh.ServerConn]struct{}
	agents    map[string]*agentConn // request ID → the agent holding it
	sessions  map[string]*session   // credential fingerprint → its live session
	closing   bool
	wg        sync.WaitGroup
}

// New checks cfg and returns a gateway.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		auth:      authlog.New(cfg.AuthLog, authlog.Options{Daemon: "assistd", Syslog: cfg.AuthLogSyslog, Now: cfg.Now}),
		unauth:    make(chan struct{}, cfg.MaxUnauthenticated),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*ssh.ServerConn]struct{}{},
		agents:    map[string]*agentConn{},
		sessions:  map[string]*session{},
	}
	s.expireStaleCredentials()
	return s, nil
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("sshd: server closed")

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		select {
		case s.unauth <- struct{}{}:
		default:
			s.log.Warn("too many unauthenticated connections; dropping", "remote", nc.RemoteAddr().String(), "limit", s.cfg.MaxUnauthenticated)
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleConn(nc)
		}()
	}
}

// Shutdown stops accepting, tells agents and sessions the gateway is going away by closing their
// connections, and waits for the connection goroutines until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.endSessions("the gateway is shutting down")
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endSessions ends every session still held, waiting until each has recorded its end, so
// nothing is written to the store after Shutdown returns.
func (s *Server) endSessions(reason string) {
	s.mu.Lock()
	live := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		live = append(live, ss)
	}
	s.mu.Unlock()
	for _, ss := range live {
		ss.end(reason, tickets.CredentialSpent)
	}
}

// handleConn runs the handshake and hands the connection to the handler of its role.
func (s *Server) handleConn(nc net.Conn) {
	defer nc.Close()
	st := &authState{s: s, remote: nc.RemoteAddr()}
	nc.SetDeadline(s.cfg.Now().Add(s.cfg.HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, st.config())
	<-s.unauth
	if err != nil {
		st.handshakeFailed(err)
		return
	}
	nc.SetDeadline(time.Time{})
	defer sc.Close()
	if !s.track(sc, true) {
		return
	}
	defer s.track(sc, false)
	p := sc.Permissions
	s.auth.Accepted("publickey", sc.User(), sc.RemoteAddr(), st.acceptedKey(p))
	log := s.log.With("remote", sc.RemoteAddr().String(), "user", sc.User(), "role", p.Extensions[extRole])
	s.audit(tickets.Event{Kind: "auth.accepted", Actor: actorOf(sc.User(), p), Remote: sc.RemoteAddr().String(), Request: p.Extensions[extRequest],
		Attrs: map[string]string{"user": sc.User(), "role": p.Extensions[extRole], "key": p.Extensions[extFingerprint]}})
	switch p.Extensions[extRole] {
	case roleAgent:
		s.serveAgent(sc, chans, reqs, log)
	case roleTechnician:
		s.serveTechnician(sc, chans, reqs, log)
	case roleOTC:
		s.serveOTC(sc, chans, reqs, log)
	}
	s.auth.Disconnected(sc.User(), sc.RemoteAddr())
}

// track adds or removes a live connection; it refuses new ones during shutdown.
func (s *Server) track(sc *ssh.ServerConn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, sc)
		return true
	}
	if s.closing {
		return false
	}
	s.conns[sc] = struct{}{}
	return true
}

// audit records an event in the store and as a log line; a store failure is logged, never fatal
// to the connection that caused it.
func (s *Server) audit(e tickets.Event) {
	e, err := s.cfg.Store.AppendEvent(e)
	if err != nil {
		s.log.Error("audit event not stored", "kind", e.Kind, "err", err)
		return
	}
	attrs := []any{"seq", e.Seq, "kind", e.Kind, "actor", e.Actor, "request", e.Request, "remote", e.Remote, "hash", e.Hash}
	for k, v := range e.Attrs {
		attrs = append(attrs, k, v)
	}
	s.log.Info("audit", attrs...)
}
