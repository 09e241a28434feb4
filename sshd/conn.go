package sshd

import (
	"context"
	"errors"
	"log/slog"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// conn is one authenticated connection. Who it is comes only from the *ssh.Permissions that
// the auth callback returned for the key the client proved it holds — never from a key the
// callback merely saw (CVE-2024-45337). Its context ends when the connection closes, so work
// done on its behalf (a technician's command, a wait for the person's agent) stops with it.
type conn struct {
	s     *Server
	sc    *ssh.ServerConn
	chans <-chan ssh.NewChannel
	reqs  <-chan *ssh.Request
	log   *slog.Logger
	ctx   context.Context

	role        string       // roleAgent, roleTechnician or roleOTC
	key         string       // SHA256 fingerprint of the key it logged in with
	account     tickets.Role // technician: the account's role
	request     string       // one-time session: the request code the credential is bound to
	technician  string       // one-time session: the account the credential was issued to
	peer        string       // another gateway: its name in the cluster
	remote      string
	stopContext context.CancelCauseFunc
}

// errConnClosed is the cause of a connection's context once the connection closed.
var errConnClosed = errors.New("connection closed")

// newConn reads the connection's identity from its permissions.
func (s *Server) newConn(sc *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request) *conn {
	ext := sc.Permissions.Extensions
	c := &conn{s: s, sc: sc, chans: chans, reqs: reqs,
		role: ext[extRole], key: ext[extFingerprint], account: tickets.Role(ext[extAccount]),
		request: ext[extRequest], technician: ext[extTechnician], peer: ext[extPeer], remote: sc.RemoteAddr().String()}
	c.ctx, c.stopContext = context.WithCancelCause(s.ctx)
	c.log = s.log.With("remote", c.remote, "user", sc.User(), "role", c.role)
	return c
}

// serve runs the connection's role until it closes.
func (c *conn) serve() {
	defer c.stopContext(errConnClosed)
	if c.role != roleAgent {
		// An agent's serve reads the connection's requests until they end with it, so its
		// context ends then without a goroutine more for each of a gateway's 20,000 agents.
		go func() {
			c.sc.Wait()
			c.stopContext(errConnClosed)
		}()
	}
	switch c.role {
	case roleAgent:
		c.serveAgent()
	case roleTechnician:
		c.serveTechnician()
	case roleOTC:
		c.serveOTC()
	case rolePeer:
		c.servePeer()
	default: // the auth callback sets a role on every login; refuse rather than guess
		c.log.Error("connection without a role; closing")
	}
}

// actor names who the connection is, for audit events.
func (c *conn) actor() string {
	switch c.role {
	case roleAgent:
		return "agent:" + c.key
	case roleOTC:
		return c.technician
	case rolePeer:
		return "gateway:" + c.peer
	}
	return c.sc.User()
}

// audit records e as done by this connection.
func (c *conn) audit(e tickets.Event) {
	if e.Actor == "" {
		e.Actor = c.actor()
	}
	if e.Remote == "" {
		e.Remote = c.remote
	}
	c.s.audit(e)
}

// serveGlobalRequests answers keepalives and refuses every other global request, until the
// connection closes.
func (c *conn) serveGlobalRequests() {
	for r := range c.reqs {
		if r.Type == "keepalive@openssh.com" {
			r.Reply(false, nil)
			continue
		}
		c.refuseRequest(r)
	}
}
