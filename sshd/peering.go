package sshd

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Gateway peering: on a cluster's store, a technician's one-time session on this gateway
// reaches a person's agent connected to another gateway of the cluster. The session — consent,
// grants, the SFTP audit, recording, limits — stays here, on the gateway that claimed the
// credential; the agent's gateway only splices: each of the session's channels to the agent is
// a relay channel on one SSH connection between the two gateways, which it passes on to the
// agent's reverse connection as it is. Both ends check the other against the host keys it
// registered in the store (tickets.Gateway), and the agent's gateway relays only for the gateway
// that holds that very credential's session. docs/etcd.md says why the session lives here.

// clusterPeers is a store several gateways share that registers them and knows who holds
// which agent and which session (tickets/etcdstore).
type clusterPeers interface {
	clusterPresence
	Gateway() string
	AgentGateway(requestID string) string
	PresenceChanged() <-chan struct{}
	RegisterGateway(g tickets.Gateway) error
	RegisteredGateway(name string) (tickets.Gateway, error)
	SessionGateway(fingerprint string) (string, error)
}

func (s *Server) cluster() (clusterPeers, bool) {
	cl, ok := s.cfg.Store.(clusterPeers)
	return cl, ok
}

// register publishes this gateway's peering address and host keys, once, when it first serves.
func (s *Server) register(l net.Listener) {
	cl, ok := s.cluster()
	if !ok {
		return
	}
	s.registered.Do(func() {
		addr := s.cfg.PeerAddress
		if addr == "" {
			addr = peerAddress(l.Addr())
		}
		g := tickets.Gateway{Address: addr, Addresses: s.cfg.Addresses}
		for _, k := range s.cfg.HostKeys {
			g.HostKeys = append(g.HostKeys, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey()))))
		}
		if err := cl.RegisterGateway(g); err != nil {
			s.log.Warn("the other gateways of the cluster cannot reach this one for sessions whose agent is here", "err", err)
			return
		}
		s.log.Info("registered in the cluster", "gateway", cl.Gateway(), "peer_address", addr)
		if s.cfg.PeerAddress == "" && addr != l.Addr().String() {
			s.log.Warn("the other gateways reach this one on the loopback: set the peer address if they run on other machines", "peer_address", addr)
		}
	})
}

// peerAddress is the listener's address as another gateway dials it: an unspecified host
// (0.0.0.0, ::) is this machine's loopback, which serves gateways on one machine only; across
// machines the address is configured (PeerAddress).
func peerAddress(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
}

// decidePeer lets a registered gateway of the cluster in, with one of the host keys it
// registered; nothing else may log in as a gateway.
func (a *authState) decidePeer(name string, key ssh.PublicKey, ext map[string]string) (*ssh.Permissions, bool, string) {
	cl, ok := a.s.cluster()
	if !ok {
		return nil, true, "not a registered gateway (this gateway is not in a cluster)"
	}
	if name == cl.Gateway() {
		return nil, true, "not a registered gateway (the name is this gateway's own)"
	}
	g, err := cl.RegisteredGateway(name)
	if err != nil {
		return nil, true, "not a registered gateway: " + err.Error()
	}
	if !hasKey(g.HostKeys, key) {
		return nil, false, fmt.Sprintf("key is not a host key of gateway %s", clip(name))
	}
	ext[extRole], ext[extPeer] = rolePeer, name
	return &ssh.Permissions{Extensions: ext}, false, ""
}

// hasKey says whether key is one of the authorized_keys lines.
func hasKey(lines []string, key ssh.PublicKey) bool {
	for _, line := range lines {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err == nil && string(k.Marshal()) == string(key.Marshal()) {
			return true
		}
	}
	return false
}

// ---- the agent's gateway

// servePeer serves another gateway of the cluster: questions about agents held here, and the
// relay channels of its sessions.
func (c *conn) servePeer() {
	go c.servePeerRequests()
	for nc := range c.chans {
		if nc.ChannelType() != relayChannel {
			c.refuseChannel(nc, ssh.Prohibited, "a gateway opens only relay channels")
			continue
		}
		go c.relay(nc)
	}
}

func (c *conn) servePeerRequests() {
	for r := range c.reqs {
		switch r.Type {
		case agentQuery:
			ref, err := decodeRelayRef(r.Payload)
			if err == nil {
				_, err = c.relayFor(ref, "agent query")
			}
			var ac *agentConn
			if err == nil {
				if ac = c.s.agentFor(ref.RequestID); ac == nil {
					err = errors.New("the person's agent is not connected to this gateway")
				}
			}
			if err != nil {
				replyError(r, err.Error())
				continue
			}
			r.Reply(true, ssh.Marshal(agentHere{Version: ac.version, Connection: fmt.Sprintf("%x", ac.c.sc.SessionID())}))
		case "keepalive@openssh.com":
			r.Reply(false, nil)
		default:
			c.refuseRequest(r)
		}
	}
}

// relayFor checks that the peer holds the live session of ref's credential, for that request,
// and returns the credential; a refusal is logged and audited.
func (c *conn) relayFor(ref relayRef, what string) (tickets.Credential, error) {
	cl, _ := c.s.cluster()
	cred, err := c.s.cfg.Store.Credential(ref.Fingerprint)
	why := ""
	switch {
	case err != nil:
		why = "no such credential"
	case cred.RequestID != ref.RequestID:
		why = "the credential is for another request"
	case cred.State != tickets.CredentialActive:
		why = "the credential's session is not live"
	default:
		holder, err := cl.SessionGateway(ref.Fingerprint)
		switch {
		case err != nil:
			return cred, fmt.Errorf("who holds the session: %w", err)
		case holder != c.peer:
			why = fmt.Sprintf("the credential's session is held by %q, not by this gateway", clip(holder))
		}
	}
	if why == "" {
		return cred, nil
	}
	c.refusedWith(what, why, map[string]string{"fingerprint": clip(ref.Fingerprint)})
	return cred, errors.New(why)
}

// relay passes one of a peer's session channels on to the agent, as it is: the session's
// gateway enforces the person's answer; the agent does too.
func (c *conn) relay(nc ssh.NewChannel) {
	m, err := decodeRelayOpen(nc.ExtraData())
	if err != nil {
		c.refusedWith("channel "+relayChannel, err.Error(), nil)
		nc.Reject(ssh.Prohibited, err.Error())
		return
	}
	cred, err := c.relayFor(relayRef{m.Fingerprint, m.RequestID}, "relay "+m.Type)
	if err != nil {
		nc.Reject(ssh.Prohibited, err.Error())
		return
	}
	ac := c.s.agentFor(m.RequestID)
	if ac == nil {
		nc.Reject(ssh.ConnectionFailed, "the person's agent is not connected to this gateway")
		return
	}
	ach, areqs, err := ac.c.sc.OpenChannel(m.Type, m.Data)
	if err != nil {
		var oce *ssh.OpenChannelError
		if errors.As(err, &oce) { // the agent's own answer (the person declined …) goes back as it is
			nc.Reject(oce.Reason, oce.Message)
			return
		}
		nc.Reject(ssh.ConnectionFailed, "open to the agent: "+err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		ach.Close()
		return
	}
	attrs := map[string]string{"type": m.Type, "credential": cred.ID, "from_gateway": c.peer, "gateway": c.s.gatewayName()}
	c.audit(tickets.Event{Kind: "relay.opened", Request: cred.RequestCode, Attrs: attrs})
	up, down := splice(pipe{ch: ch, reqs: reqs}, pipe{ch: ach, reqs: areqs}, spliceOptions{forward: func(string) bool { return true }})
	attrs["bytes_to_agent"], attrs["bytes_to_peer"] = strconv.FormatInt(up, 10), strconv.FormatInt(down, 10)
	c.audit(tickets.Event{Kind: "relay.closed", Request: cred.RequestCode, Attrs: attrs})
}

// gatewayName is this gateway's name in its cluster; "" off a cluster.
func (s *Server) gatewayName() string {
	if cl, ok := s.cluster(); ok {
		return cl.Gateway()
	}
	return ""
}

// ---- the technician's gateway

// agentPath is how a session reaches the person's agent: the agent's own connection to this
// gateway (*agentConn), or a relay through the gateway of the cluster that holds it (*relayPath).
type agentPath interface {
	openChannel(typ string, msg any) (ssh.Channel, <-chan *ssh.Request, error)
	encode(msg any) []byte
	agentVersion() uint32
	viaGateway() string // the other gateway that holds the agent; "" for this one
}

func (ac *agentConn) openChannel(typ string, msg any) (ssh.Channel, <-chan *ssh.Request, error) {
	return ac.c.sc.OpenChannel(typ, ac.encode(msg))
}
func (ac *agentConn) agentVersion() uint32 { return ac.version }
func (ac *agentConn) viaGateway() string   { return "" }

// relayPath reaches an agent through the gateway that holds it, for one session.
type relayPath struct {
	p       *peerClient
	ref     relayRef
	version uint32
	agent   string // the agent's connection there (agentHere.Connection)
}

func (r *relayPath) encode(msg any) []byte { return protocol.Marshal(msg, r.version) }
func (r *relayPath) agentVersion() uint32  { return r.version }
func (r *relayPath) viaGateway() string    { return r.p.name }

func (r *relayPath) openChannel(typ string, msg any) (ssh.Channel, <-chan *ssh.Request, error) {
	return r.p.conn.OpenChannel(relayChannel, ssh.Marshal(relayOpen{
		Fingerprint: r.ref.Fingerprint, RequestID: r.ref.RequestID, Type: typ, Data: r.encode(msg)}))
}

// reachAgent finds the session's agent: on this gateway, or on the gateway of the cluster that
// holds it. An agent nobody holds is offline (errAgentOffline), and so is one whose gateway
// cannot be reached or no longer holds it: the session may try again.
func (s *Server) reachAgent(ss *session) (agentPath, error) {
	if ac := s.agentFor(ss.cred.RequestID); ac != nil {
		return ac, nil
	}
	cl, ok := s.cluster()
	if !ok {
		return nil, ss.offline()
	}
	name := cl.AgentGateway(ss.cred.RequestID)
	if name == "" || name == cl.Gateway() {
		return nil, ss.offline()
	}
	r, err := s.relayTo(name, relayRef{Fingerprint: ss.cred.Fingerprint, RequestID: ss.cred.RequestID})
	if err != nil {
		ss.log.Info("the agent's gateway did not relay", "agent_gateway", name, "err", err)
		return nil, fmt.Errorf("the person's agent for request %s is on gateway %s, which answered: %v; it counts as %w until then",
			ss.cred.RequestCode, name, err, errAgentOffline)
	}
	return r, nil
}

// relayTo asks gateway name for the agent of ref's request.
func (s *Server) relayTo(name string, ref relayRef) (*relayPath, error) {
	p, err := s.peer(name)
	if err != nil {
		return nil, err
	}
	ok, reply, err := p.conn.SendRequest(agentQuery, true, ssh.Marshal(ref))
	switch {
	case err != nil:
		return nil, fmt.Errorf("ask gateway %s for the agent: %w", name, err)
	case !ok:
		var e protocol.ErrorReply
		if ssh.Unmarshal(reply, &e) != nil || e.Message == "" {
			e.Message = "refused"
		}
		return nil, errors.New(clip(e.Message))
	}
	here, err := decodeAgentHere(reply)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", name, err)
	}
	return &relayPath{p: p, ref: ref, version: here.Version, agent: here.Connection}, nil
}

// awaitElsewhere resumes, through the gateway that holds it now, a session whose agent came
// back on another gateway of the cluster (the one it was on, on a new connection, or another
// one after its gateway died). It follows the cluster's presence while the session waits.
func (ss *session) awaitElsewhere(cl clusterPeers, lost agentPath) {
	ref := relayRef{Fingerprint: ss.cred.Fingerprint, RequestID: ss.cred.RequestID}
	for {
		changed := cl.PresenceChanged()
		if !ss.waitingForAgent() {
			return
		}
		if name := cl.AgentGateway(ref.RequestID); name != "" && name != cl.Gateway() {
			r, err := ss.s.relayTo(name, ref)
			if err == nil && !sameAgentConnection(lost, r) {
				ss.resume(r)
				if !ss.waitingForAgent() {
					return
				}
			}
		}
		select {
		case <-changed:
		case <-ss.ctx.Done():
			return
		}
	}
}

func (ss *session) waitingForAgent() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ctx.Err() == nil && ss.awaiting
}

// sameAgentConnection says whether r reaches the very agent connection lost was on.
func sameAgentConnection(lost agentPath, r *relayPath) bool {
	l, ok := lost.(*relayPath)
	return ok && l.p.name == r.p.name && l.agent == r.agent
}

// peerClient is this gateway's SSH connection to another gateway of the cluster, shared by
// every session that reaches an agent there.
type peerClient struct {
	name string
	conn ssh.Conn
	done chan struct{} // closed when the connection ends
}

// peerSlot holds the connection to one gateway; its lock makes sessions that need a connection
// at once wait for one dial.
type peerSlot struct {
	mu sync.Mutex
	p  *peerClient
}

// peer returns the live connection to gateway name, dialling it if there is none.
func (s *Server) peer(name string) (*peerClient, error) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, ErrServerClosed
	}
	slot := s.peers[name]
	if slot == nil {
		slot = &peerSlot{}
		s.peers[name] = slot
	}
	s.mu.Unlock()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if p := slot.p; p != nil {
		select {
		case <-p.done:
		default:
			return p, nil
		}
	}
	p, err := s.dialPeer(name)
	if err != nil {
		return nil, err
	}
	slot.p = p
	return p, nil
}

// peerDialTimeout bounds the dial and handshake to another gateway.
const peerDialTimeout = 10 * time.Second

// dialPeer logs in to gateway name as a gateway, with this gateway's host keys, and checks its
// host key against the ones it registered.
func (s *Server) dialPeer(name string) (*peerClient, error) {
	cl, _ := s.cluster()
	g, err := cl.RegisteredGateway(name)
	if err != nil {
		return nil, err
	}
	nc, err := net.DialTimeout("tcp", g.Address, peerDialTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial gateway %s at %s: %w", name, g.Address, err)
	}
	nc.SetDeadline(time.Now().Add(peerDialTimeout))
	cfg := &ssh.ClientConfig{
		User: peerUserPrefix + cl.Gateway(),
		Auth: []ssh.AuthMethod{ssh.PublicKeys(s.cfg.HostKeys...)},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if !hasKey(g.HostKeys, key) {
				return fmt.Errorf("gateway %s at %s offered host key %s, which it did not register", name, g.Address, ssh.FingerprintSHA256(key))
			}
			return nil
		},
		ClientVersion: "SSH-2.0-assistd",
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, g.Address, cfg)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("log in to gateway %s at %s: %w", name, g.Address, err)
	}
	nc.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)
	go func() {
		for nc := range chans {
			nc.Reject(ssh.Prohibited, "a gateway opens no channels to another")
		}
	}()
	p := &peerClient{name: name, conn: c, done: make(chan struct{})}
	go func() {
		c.Wait()
		close(p.done)
	}()
	s.log.Info("connected to gateway", "gateway", name, "address", g.Address)
	return p, nil
}

// closePeers closes the connections to the other gateways (Shutdown).
func (s *Server) closePeers() {
	s.mu.Lock()
	slots := make([]*peerSlot, 0, len(s.peers))
	for _, slot := range s.peers {
		slots = append(slots, slot)
	}
	s.mu.Unlock()
	for _, slot := range slots {
		slot.mu.Lock()
		if slot.p != nil {
			slot.p.conn.Close()
		}
		slot.mu.Unlock()
	}
}

// carriers adds to a session event's attrs the gateways that carry it: this one, and the one
// holding the agent when that is another. Off a cluster it adds nothing.
func (s *Server) carriers(attrs map[string]string, via string) map[string]string {
	if name := s.gatewayName(); name != "" {
		attrs["gateway"] = name
	}
	if via != "" {
		attrs["agent_gateway"] = via
	}
	return attrs
}
