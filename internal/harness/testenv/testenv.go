// Package testenv starts the real parts of assist for tests: a gateway on 127.0.0.1:0 with its
// bbolt file in t.TempDir(), technicians with real keys, agents over real SSH, and the files
// OpenSSH's own clients need. Everything is torn down with t.Cleanup.
package testenv

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// Gateway is a running gateway.
type Gateway struct {
	t         testing.TB
	Server    *sshd.Server
	Store     tickets.Store // a bbolt file in Dir, or Options.Store
	Addr      string        // 127.0.0.1:port
	HostKey   ssh.Signer
	Dir       string
	DBPath    string
	AuditKey  []byte
	Logs      *SyncBuffer // slog lines
	AuthLog   *SyncBuffer // OpenSSH-style lines
	cfg       sshd.Config
	configure func(*sshd.Config)
	listener  net.Listener
}

// Options adjust a gateway.
type Options struct {
	Configure func(*sshd.Config) // change timeouts, clock …
	HostKey   ssh.Signer         // reuse a host key (restarts)
	Dir       string             // reuse a data directory (restarts)
	AuditKey  []byte
	Addr      string // reuse an address (restarts)
	// Store is a store to serve instead of a new bbolt file (a cluster's, shared by several
	// gateways); Stop closes it.
	Store tickets.Store
}

// StartGateway starts a gateway; the test fails if it cannot.
func StartGateway(t testing.TB, o Options) *Gateway {
	t.Helper()
	g := &Gateway{t: t, Dir: o.Dir, HostKey: o.HostKey, AuditKey: o.AuditKey, Logs: &SyncBuffer{}, AuthLog: &SyncBuffer{}, configure: o.Configure}
	if g.Dir == "" {
		g.Dir = t.TempDir()
	}
	if g.HostKey == nil {
		g.HostKey = NewKey(t)
	}
	if g.AuditKey == nil {
		g.AuditKey = bytes.Repeat([]byte{7}, 32)
	}
	g.DBPath = filepath.Join(g.Dir, "assist.db")
	t.Cleanup(func() { logIfFailed(t, "gateway", g.Logs) })
	store := o.Store
	if store == nil {
		var err error
		if store, err = tickets.OpenBolt(g.DBPath, tickets.BoltOptions{AuditKey: g.AuditKey}); err != nil {
			t.Fatalf("open store: %v", err)
		}
	}
	g.Store = store
	g.cfg = sshd.Config{
		Store:    store,
		HostKeys: []ssh.Signer{g.HostKey},
		Logger:   slog.New(slog.NewTextHandler(g.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		AuthLog:  g.AuthLog,
	}
	if o.Configure != nil {
		o.Configure(&g.cfg)
	}
	srv, err := sshd.New(g.cfg)
	if err != nil {
		t.Fatalf("new gateway: %v", err)
	}
	g.Server = srv
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := listenRetry(addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	g.listener = l
	g.Addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(g.Stop)
	return g
}

// listenRetry retries briefly: a restarted gateway reuses its port, which the old one may still hold.
func listenRetry(addr string) (net.Listener, error) {
	var err error
	for i := 0; i < 50; i++ {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			return l, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

// Stop shuts the gateway down and closes its store; calling it twice is harmless.
func (g *Gateway) Stop() {
	if g.Server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g.Server.Shutdown(ctx)
	g.Store.Close()
	g.Server = nil
}

// Restart stops the gateway and starts a new one on the same address, data, keys and
// configuration.
func (g *Gateway) Restart(t testing.TB) *Gateway {
	t.Helper()
	addr := g.Addr
	g.Stop()
	return StartGateway(t, Options{HostKey: g.HostKey, Dir: g.Dir, AuditKey: g.AuditKey, Addr: addr, Configure: g.configure})
}

// HostKeyLine is the gateway's public key as an authorized_keys line.
func (g *Gateway) HostKeyLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(g.HostKey.PublicKey())))
}

// Technician is an account with its key on disk.
type Technician struct {
	Name    string
	Signer  ssh.Signer
	KeyFile string // OpenSSH private key file, 0600
}

// AddTechnician creates a technician's account, or an admin's, with a fresh key.
func (g *Gateway) AddTechnician(t testing.TB, name string, admin bool) *Technician {
	t.Helper()
	if admin {
		return g.AddAccount(t, name, tickets.RoleAdmin)
	}
	return g.AddAccount(t, name, tickets.RoleTechnician)
}

// AddAccount creates an account of the role with a fresh key.
func (g *Gateway) AddAccount(t testing.TB, name string, role tickets.Role) *Technician {
	t.Helper()
	tech := &Technician{Name: name}
	tech.Signer, tech.KeyFile = NewKeyFile(t, t.TempDir(), name)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(tech.Signer.PublicKey())))
	if err := g.Store.AddUser(tickets.User{Name: name, FullName: strings.ToUpper(name[:1]) + name[1:] + " Tester", Keys: []string{line}, Role: role}); err != nil {
		t.Fatalf("add technician: %v", err)
	}
	return tech
}

// Login returns how tech reaches this gateway.
func (g *Gateway) Login(tech *Technician) viewer.Login {
	return viewer.Login{Gateway: g.Addr, User: tech.Name, Identity: tech.KeyFile, GatewayKey: g.HostKeyLine()}
}

// Exec runs a gateway command as tech and returns stdout, stderr and exit status.
func (g *Gateway) Exec(t testing.TB, tech *Technician, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := g.Login(tech).Dial(ctx)
	if err != nil {
		t.Fatalf("technician %s login: %v", tech.Name, err)
	}
	defer c.Close()
	var out, errb bytes.Buffer
	status, err := viewer.Run(ctx, c, args, nil, &out, &errb)
	if err != nil {
		t.Fatalf("exec %v: %v", args, err)
	}
	return out.String(), errb.String(), status
}

// IssueOTC has tech issue an .otc for code and returns it parsed.
func (g *Gateway) IssueOTC(t testing.TB, tech *Technician, code string) *tickets.OTC {
	t.Helper()
	out, errs, status := g.Exec(t, tech, "request", "otc", code)
	if status != 0 {
		t.Fatalf("request otc %s: status %d: %s", code, status, errs)
	}
	o, err := tickets.ParseOTC([]byte(out))
	if err != nil {
		t.Fatalf("parse issued otc: %v", err)
	}
	return o
}

// Agent is a running agent.
type Agent struct {
	*agent.Agent
	Key    ssh.Signer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned; err holds what it returned
	err    error
	Events chan agent.Event
	Logs   *SyncBuffer
}

// AgentOptions adjust an agent.
type AgentOptions struct {
	Form    tickets.Form
	Key     ssh.Signer
	Grant   protocol.Grant // the person's answer; 0 means deny
	Consent agent.Consenter
	Routes  map[string]agent.Route
	HostKey ssh.PublicKey // what the agent pins (default: the gateway's)
	From    string        // the IP address the agent dials from (default: the system's choice)
	Via     string        // the address the agent dials (default: the gateway's), e.g. a linkproxy
	// Alternates are further gateway addresses the agent tries in turn (agent.Config).
	Alternates []string
	// MaxBackoff caps the agent's reconnect waits (default 500ms, to keep tests short; -1: the
	// agent's own default).
	MaxBackoff time.Duration
}

// StartAgent runs an agent against g and waits until its request is filed.
func (g *Gateway) StartAgent(t testing.TB, o AgentOptions) *Agent {
	t.Helper()
	a := g.startAgent(t, o)
	select {
	case e := <-a.Events:
		if e.Kind != agent.EventFiled {
			t.Fatalf("agent: first event %v (err %v), want filed", e.Kind, e.Err)
		}
	case <-a.done:
		t.Fatalf("agent stopped before filing: %v", a.err)
	case <-time.After(20 * time.Second):
		t.Fatal("agent did not file its request in 20s")
	}
	return a
}

// StartAgentErr runs an agent and returns the error Run ends with (for refusals).
func (g *Gateway) StartAgentErr(t testing.TB, o AgentOptions) error {
	t.Helper()
	a := g.startAgent(t, o)
	select {
	case <-a.done:
		return a.err
	case <-time.After(20 * time.Second):
		t.Fatal("agent still running after 20s")
	}
	return nil
}

// StartAgentNoWait runs an agent against g without waiting for anything; the test reads its
// Events and Wait.
func (g *Gateway) StartAgentNoWait(t testing.TB, o AgentOptions) *Agent {
	t.Helper()
	return g.startAgent(t, o)
}

func (g *Gateway) startAgent(t testing.TB, o AgentOptions) *Agent {
	if o.Form.FullName == "" {
		o.Form = tickets.Form{FullName: "Pat Person", UserName: "pat", Computer: "pat-laptop", Email: "pat@example.org", Phone: "+1 555 0100", Message: "printer broken"}
	}
	if o.Key == nil {
		o.Key = NewKey(t)
	}
	if o.Consent == nil {
		o.Consent = FixedConsent(o.Grant)
	}
	hk := o.HostKey
	if hk == nil {
		hk = g.HostKey.PublicKey()
	}
	a := &Agent{Key: o.Key, done: make(chan struct{}), Events: make(chan agent.Event, 64), Logs: &SyncBuffer{}}
	t.Cleanup(func() { logIfFailed(t, "agent of "+o.Form.FullName, a.Logs) })
	dial := g.Addr
	if o.Via != "" {
		dial = o.Via
	}
	switch o.MaxBackoff {
	case 0:
		o.MaxBackoff = 500 * time.Millisecond
	case -1:
		o.MaxBackoff = 0
	}
	ag, err := agent.New(agent.Config{
		Gateway: dial, Alternates: o.Alternates, HostKeys: []ssh.PublicKey{hk}, Key: o.Key, Form: o.Form, Consent: o.Consent, Routes: o.Routes,
		Logger: slog.New(slog.NewTextHandler(a.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Events: func(e agent.Event) {
			select {
			case a.Events <- e:
			default:
			}
		},
		MaxBackoff: o.MaxBackoff,
		LocalAddr:  localAddr(o.From),
	})
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
	a.Agent = ag
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() {
		a.err = ag.Run(ctx)
		close(a.done)
	}()
	t.Cleanup(func() { a.Stop() })
	return a
}

func localAddr(ip string) net.Addr {
	if ip == "" {
		return nil
	}
	return &net.TCPAddr{IP: net.ParseIP(ip)}
}

// Stop stops the agent and returns what Run returned. It may be called after Wait, and twice.
func (a *Agent) Stop() error {
	a.cancel()
	select {
	case <-a.done:
		return a.err
	case <-time.After(10 * time.Second):
		return errors.New("agent did not stop in 10s")
	}
}

// Wait waits for Run to return.
func (a *Agent) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-a.done:
		return a.err
	case <-time.After(d):
		t.Fatalf("agent still running after %s", d)
		return nil
	}
}

// WaitEvent waits for the next event of kind, skipping others.
func (a *Agent) WaitEvent(t testing.TB, kind agent.EventKind, d time.Duration) agent.Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-a.Events:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("agent: no event %v within %s", kind, d)
		}
	}
}

// FixedConsent answers every ask with g and records who asked.
type FixedConsent protocol.Grant

func (f FixedConsent) Ask(context.Context, protocol.ConsentAsk) (protocol.Grant, error) {
	return protocol.Grant(f), nil
}

// RecordingConsent answers with Grant and keeps every ask.
type RecordingConsent struct {
	Grant protocol.Grant
	mu    sync.Mutex
	asks  []protocol.ConsentAsk
}

func (r *RecordingConsent) Ask(_ context.Context, a protocol.ConsentAsk) (protocol.Grant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asks = append(r.asks, a)
	return r.Grant, nil
}

// Asks returns what was asked so far.
func (r *RecordingConsent) Asks() []protocol.ConsentAsk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]protocol.ConsentAsk(nil), r.asks...)
}

// NewKey returns a fresh ed25519 signer.
func NewKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// NewKeyFile writes a fresh ed25519 key in OpenSSH format to dir/name (0600) and name.pub.
func NewKeyFile(t testing.TB, dir, name string) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(s.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers, for logs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor polls cond until it holds or d passes; for state that has no signal to await (a log
// line written by another process).
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logIfFailed writes what a part of a failed test logged, so that a failure in CI says what the
// gateway and the agents saw; the log of a test that passed stays unwritten.
func logIfFailed(t testing.TB, who string, logs *SyncBuffer) {
	if t.Failed() {
		t.Logf("%s log:\n%s", who, logs.String())
	}
}
