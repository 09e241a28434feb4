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
	"net/netip"
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
	// PeerAddress is the host:port the other gateways of a cluster dial to reach the agents
	// connected here (peering.go). Empty means the first listener's address, with the loopback
	// for an unspecified host.
	PeerAddress string

	// Admission (see admission.go). A connection past a cap is closed before its handshake.
	MaxConnections               int // 4096 live connections; assistd derives it from the open-file limit (ConnectionsFor)
	MaxUnauthenticated           int // an eighth of MaxConnections (at least 16) handshaking at once
	MaxUnauthenticatedPerAddress int // 32 handshaking at once from one address
	MaxUnauthenticatedPerNetwork int // 128 handshaking at once from one /24 (IPv4) or /64 (IPv6)

	VersionTimeout       time.Duration // 3s from the accept for the peer's SSH version line
	HandshakeStepTimeout time.Duration // 5s for each further read of the handshake
	HandshakeTimeout     time.Duration // 10s: an unauthenticated connection is dropped after this
	MaxAuthTries         int           // 6, as OpenSSH
	// Pre-authentication logging: each address may cause RefusalLogBudget auth-log lines per
	// RefusalLogInterval; the rest are counted and summarised once per interval.
	RefusalLogInterval time.Duration // 10s
	RefusalLogBudget   int           // 10

	// Request spam (see spam.go): new filings from one address. Negative: no limit.
	MaxOpenPerAddress   int // 100 open requests filed from one address
	MaxFilingsPerMinute int // 30 new filings a minute from one address

	// Record is the recording policy for one-time sessions (recording.go); the zero value
	// records nothing.
	Record RecordConfig

	CredentialGrace  time.Duration // 30s after a session's last connection closes, its credential is spent
	AgentGrace       time.Duration // 60s a session waits for the person's agent to come back after its connection dropped
	ConsentTimeout   time.Duration // 2m for the person to answer
	KeepaliveSilence time.Duration // 8s: an agent silent this long is asked whether it is there (liveness.go)
	KeepaliveTimeout time.Duration // 5s: one that does not answer in this long is dropped

	// Session limits (limits.go); zero means none. A session ends SessionMax after it started,
	// or SessionIdle after the technician's last input or file operation.
	SessionMax  time.Duration
	SessionIdle time.Duration
	// KeepChat keeps the text of chat messages in the audit trail; without it, only their sizes.
	KeepChat bool
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
	setDefault(&c.MaxConnections, defaultMaxConnections)
	setDefault(&c.MaxUnauthenticated, max(c.MaxConnections/8, min(16, c.MaxConnections)))
	setDefault(&c.MaxUnauthenticatedPerAddress, 32)
	setDefault(&c.MaxUnauthenticatedPerNetwork, 128)
	setDefault(&c.VersionTimeout, 3*time.Second)
	setDefault(&c.HandshakeStepTimeout, 5*time.Second)
	setDefault(&c.HandshakeTimeout, 10*time.Second)
	setDefault(&c.MaxAuthTries, 6)
	setDefault(&c.RefusalLogInterval, 10*time.Second)
	setDefault(&c.RefusalLogBudget, 10)
	setDefault(&c.MaxOpenPerAddress, 100)
	setDefault(&c.MaxFilingsPerMinute, 30)
	setDefault(&c.CredentialGrace, 30*time.Second)
	setDefault(&c.AgentGrace, time.Minute)
	setDefault(&c.ConsentTimeout, 2*time.Minute)
	setDefault(&c.KeepaliveSilence, 8*time.Second)
	setDefault(&c.KeepaliveTimeout, 5*time.Second)
	setDefault(&c.Record.PruneEvery, time.Hour)
	if c.Record.Mode != RecordOff && c.Record.Dir == "" {
		return errors.New("sshd: recording on but no recordings directory")
	}
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
	cfg     Config
	log     *slog.Logger
	auth    *authlog.Logger
	admit   *admission
	preauth *preauthLog
	filings *filingLimits
	live    *liveness
	stop    chan struct{} // closed by Shutdown

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*ssh.ServerConn]*handshakeConn // live connections and their sockets
	agents    map[string]*agentConn              // request ID → the agent holding it
	sessions  map[string]*session                // credential fingerprint → its live session
	closing   bool
	wg        sync.WaitGroup
	changes   changes              // request changes for the watchers (watch.go)
	peers     map[string]*peerSlot // gateway name → this gateway's connection to it (peering.go)

	registered sync.Once // this gateway's registration in its cluster (peering.go)

	// ctx is the parent of every connection's and session's context; Shutdown cancels it with
	// errShuttingDown, which sessions pass on as their end reason.
	ctx    context.Context
	cancel context.CancelCauseFunc
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
		stop:      make(chan struct{}),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*ssh.ServerConn]*handshakeConn{},
		agents:    map[string]*agentConn{},
		sessions:  map[string]*session{},
		peers:     map[string]*peerSlot{},
	}
	s.admit = newAdmission(&s.cfg)
	s.preauth = newPreauthLog(s)
	s.filings = newFilingLimits(&s.cfg, func(a netip.Addr) (int, error) { return openFrom(cfg.Store, a) })
	if err := s.filings.load(cfg.Store); err != nil {
		return nil, err
	}
	s.live = newLiveness(&s.cfg, time.Now()) // the sockets' read times are wall-clock, whatever Config.Now is
	go s.preauth.run(s.stop)
	go s.live.run(s.stop)
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.expireStaleCredentials()
	go s.pruneLoop()
	if c, ok := cfg.Store.(clusterClosings); ok {
		go s.followClosings(c.WatchClosed(s.ctx))
	}
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
	s.register(l)
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of descriptors, or a connection reset before it was accepted: wait and go
			// on, as net/http does, rather than end the server and drop every agent.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "in", delay)
			select {
			case <-time.After(delay):
			case <-s.stop:
			}
			continue
		}
		delay = 0
		s.serveConn(nc)
	}
}

// serveConn admits nc and serves it on its own goroutine, or closes it at once.
func (s *Server) serveConn(nc net.Conn) {
	t, why := s.admit.enter(addrOf(nc.RemoteAddr()))
	if why != admitted {
		s.preauth.refusedConn(why, nc.RemoteAddr(), nc.LocalAddr(), s.cfg.MaxUnauthenticatedPerAddress)
		nc.Close()
		return
	}
	conns, _ := s.admit.load()
	s.preauth.admittedConn(conns)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer t.leave()
		s.handleConn(nc, t)
	}()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// errShuttingDown ends every session when the gateway stops.
var errShuttingDown = &sessionEnd{Reason: "the gateway is shutting down", State: tickets.CredentialSpent}

// Shutdown stops accepting, ends every session (its viewers and the person are told why), closes
// the connections and waits for their goroutines until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		close(s.stop)
	}
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	s.cancel(errShuttingDown)
	done := make(chan struct{})
	go func() {
		s.waitSessions()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.waitSessions() // sessions claimed by handshakes that were under way
		s.closePeers()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitSessions waits until every session has recorded its end, so nothing is written to the
// store after Shutdown returns.
func (s *Server) waitSessions() {
	s.mu.Lock()
	live := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		live = append(live, ss)
	}
	s.mu.Unlock()
	for _, ss := range live {
		<-ss.done
	}
}

// handleConn runs the handshake and serves the connection in its role.
func (s *Server) handleConn(nc net.Conn, t *ticket) {
	defer nc.Close()
	hc := newHandshakeConn(nc, &s.cfg)
	st := &authState{s: s, remote: nc.RemoteAddr(), ip: t.addr, conn: hc}
	sc, chans, reqs, err := ssh.NewServerConn(hc, st.config())
	if err != nil {
		t.leave()
		st.handshakeFailed(err)
		return
	}
	hc.lift()
	t.authenticated()
	defer sc.Close()
	if !s.track(sc, hc) {
		return
	}
	defer s.track(sc, nil)
	s.auth.Accepted("publickey", sc.User(), sc.RemoteAddr(), st.acceptedKey(sc.Permissions))
	c := s.newConn(sc, chans, reqs)
	c.audit(tickets.Event{Kind: "auth.accepted", Request: c.request,
		Attrs: map[string]string{"user": sc.User(), "role": c.role, "key": c.key}})
	c.serve()
	s.auth.Disconnected(sc.User(), sc.RemoteAddr())
}

// track adds a live connection with its socket, or removes it (hc nil); it refuses new ones
// during shutdown.
func (s *Server) track(sc *ssh.ServerConn, hc *handshakeConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hc == nil {
		delete(s.conns, sc)
		return true
	}
	if s.closing {
		return false
	}
	s.conns[sc] = hc
	return true
}

// socketOf returns a live connection's socket, or nil.
func (s *Server) socketOf(sc *ssh.ServerConn) *handshakeConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[sc]
}

// audit records an event in the store and as a log line; a store failure is logged, never fatal
// to the connection that caused it.
func (s *Server) audit(e tickets.Event) {
	stored, err := s.cfg.Store.AppendEvent(e)
	if err != nil {
		s.log.Error("audit event not stored", "kind", e.Kind, "request", e.Request, "err", err)
		return
	}
	s.logEvents(stored)
}

// logEvents writes stored audit events as log lines.
func (s *Server) logEvents(events ...tickets.Event) {
	for _, e := range events {
		s.logEvent(e)
	}
}

func (s *Server) logEvent(e tickets.Event) {
	s.changes.publish(e)
	attrs := []any{"seq", e.Seq, "kind", e.Kind, "actor", e.Actor, "request", e.Request, "remote", e.Remote, "hash", e.Hash}
	for k, v := range e.Attrs {
		attrs = append(attrs, k, v)
	}
	s.log.Info("audit", attrs...)
}
