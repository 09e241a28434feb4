package sshd

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Permission extensions set by the auth callback. Authorisation reads them from the connection's
// *ssh.Permissions, never from a key the callback merely saw (CVE-2024-45337).
const (
	extRole        = "assist-role"
	extFingerprint = "assist-key"
	extKeyLine     = "assist-key-line"
	extAccount     = "assist-account-role" // a technician login's tickets.Role
	extRequest     = "assist-request"
	extFullName    = "assist-full-name"
	extTechnician  = "assist-technician"
	extPeer        = "assist-peer" // a gateway login's gateway name

	roleAgent      = "agent"
	roleTechnician = "technician"
	roleOTC        = "otc"
	rolePeer       = "gateway" // another gateway of the cluster (peering.go)
)

// errAuth is all the remote side learns about a refused key.
var errAuth = errors.New("permission denied")

// authState is one connection's authentication: it decides per key, counts failures and writes
// the OpenSSH-style lines.
type authState struct {
	s       *Server
	remote  net.Addr
	ip      netip.Addr
	conn    *handshakeConn
	user    string
	invalid bool
	failed  int
	logged  bool // "Invalid user" written
}

func (a *authState) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback:         a.publicKey,
		VerifiedPublicKeyCallback: a.verified,
		MaxAuthTries:              a.s.cfg.MaxAuthTries,
		ServerVersion:             "SSH-2.0-assistd",
		BannerCallback:            nil,
	}
	for _, k := range a.s.cfg.HostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

// publicKey decides whether key may log in as the requested user. It is called for queries
// too, before the client proved it holds the key; claims happen in verified.
func (a *authState) publicKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	user := meta.User()
	a.user = user
	perms, invalid, reason := a.decide(user, key)
	if perms != nil {
		return perms, nil
	}
	if reason == reasonStoreDown {
		return nil, a.storeDown(user)
	}
	a.invalid = invalid
	a.failed++
	if !a.s.preauth.allow(a.ip) {
		return nil, errAuth
	}
	if invalid && !a.logged {
		a.logged = true
		a.s.auth.InvalidUser(user, a.remote)
	}
	a.s.auth.Failed("publickey", user, invalid, a.remote, key)
	a.s.log.Info("authentication refused", "remote", a.remote.String(), "user", user, "key", ssh.FingerprintSHA256(key), "reason", reason)
	a.s.audit(tickets.Event{Kind: "auth.failed", Remote: a.remote.String(), Attrs: map[string]string{
		"user": clip(user), "key": ssh.FingerprintSHA256(key), "reason": reason}})
	return nil, errAuth
}

// decide maps (user, key) to permissions, or says why not and whether the user is unknown.
func (a *authState) decide(user string, key ssh.PublicKey) (perms *ssh.Permissions, invalidUser bool, reason string) {
	fp := ssh.FingerprintSHA256(key)
	ext := map[string]string{extFingerprint: fp, extKeyLine: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))}
	switch {
	case user == protocol.AgentUser:
		if key.Type() != ssh.KeyAlgoED25519 {
			return nil, false, "agents must use ed25519 keys"
		}
		ext[extRole] = roleAgent
		return &ssh.Permissions{Extensions: ext}, false, ""
	case strings.HasPrefix(user, "otc-"):
		cred, err := a.s.cfg.Store.Credential(fp)
		if errors.Is(err, tickets.ErrUnavailable) {
			return nil, false, reasonStoreDown
		}
		if err != nil {
			return nil, false, "not a one-time credential"
		}
		if protocol.OTCUser(cred.RequestCode) != user {
			return nil, false, fmt.Sprintf("credential is for request %s, not %s", cred.RequestCode, strings.TrimPrefix(user, "otc-"))
		}
		if why := a.s.credentialRefusal(cred); why != "" {
			return nil, false, why
		}
		ext[extRole], ext[extRequest], ext[extTechnician] = roleOTC, cred.RequestCode, cred.Technician
		return &ssh.Permissions{Extensions: ext}, false, ""
	case strings.HasPrefix(user, peerUserPrefix):
		return a.decidePeer(strings.TrimPrefix(user, peerUserPrefix), key, ext)
	}
	u, err := a.s.cfg.Store.User(user)
	if errors.Is(err, tickets.ErrUnavailable) {
		return nil, false, reasonStoreDown
	}
	if err != nil {
		return nil, true, "no such user"
	}
	for _, line := range u.Keys {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err == nil && string(k.Marshal()) == string(key.Marshal()) {
			ext[extRole], ext[extAccount], ext[extFullName] = roleTechnician, string(u.AccountRole()), u.FullName
			return &ssh.Permissions{Extensions: ext}, false, ""
		}
	}
	return nil, false, "key not authorized for this user"
}

// verified runs once the client proved it holds the key. A one-time credential is claimed here,
// atomically, so two connections racing with a fresh credential cannot both start a session.
func (a *authState) verified(meta ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	if perms.Extensions[extRole] != roleOTC {
		return perms, nil
	}
	if err := a.s.claimCredential(perms.Extensions[extFingerprint]); err != nil {
		if errors.Is(err, tickets.ErrUnavailable) {
			return nil, a.storeDown(meta.User())
		}
		a.failed++
		if !a.s.preauth.allow(a.ip) {
			return nil, errAuth
		}
		a.s.auth.Failed("publickey", meta.User(), false, a.remote, key)
		a.s.log.Info("authentication refused", "remote", a.remote.String(), "user", meta.User(), "reason", err.Error())
		return nil, errAuth
	}
	return perms, nil
}

// reasonStoreDown is decide's reason when the store could not say: a cluster's store whose
// etcd does not answer.
const reasonStoreDown = "store unavailable"

// storeDown refuses a login that the store could not decide, saying so to the client in a
// banner. It writes no "Failed publickey" line: the user may be genuine, and fail2ban should
// not count an outage against them.
func (a *authState) storeDown(user string) error {
	a.s.log.Warn("login not decided: store unavailable", "remote", a.remote.String(), "user", clip(user))
	return &ssh.BannerError{Err: errAuth, Message: "assistd: the request store is unavailable; try again in a moment\n"}
}

// acceptedKey returns the key a connection logged in with, for the "Accepted" line.
func (a *authState) acceptedKey(p *ssh.Permissions) ssh.PublicKey {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(p.Extensions[extKeyLine]))
	if err != nil {
		return nil
	}
	return k
}

// handshakeFailed writes the line OpenSSH would for a connection that never authenticated.
func (a *authState) handshakeFailed(err error) {
	if !a.s.preauth.allow(a.ip) {
		return
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && !a.conn.gotVersion():
		a.s.auth.NoIdentification(a.remote)
	case errors.Is(err, os.ErrDeadlineExceeded):
		a.s.auth.TimeoutPreauth(a.remote)
	case a.failed >= a.s.cfg.MaxAuthTries:
		a.s.auth.MaxAuthTries(a.user, a.invalid, a.remote)
	case a.user != "" && badSignature(err):
		// x/crypto ends the connection when a signature does not verify: a client offered a
		// key it does not hold (the CVE-2024-45337 pattern). That is a failed attempt, as in
		// OpenSSH's log, not a client that merely went away.
		a.s.auth.Failed("publickey", a.user, a.invalid, a.remote, nil)
		a.s.log.Info("authentication refused", "remote", a.remote.String(), "user", a.user, "reason", "signature did not verify", "err", err)
		a.s.audit(tickets.Event{Kind: "auth.failed", Remote: a.remote.String(), Attrs: map[string]string{"user": clip(a.user), "reason": "signature did not verify"}})
	case a.user != "":
		a.s.auth.ClosedPreauth(a.user, a.invalid, a.remote)
	case errors.Is(err, io.EOF):
		a.s.auth.ClosedPreauth("", false, a.remote)
	default:
		a.s.log.Info("handshake failed", "remote", a.remote.String(), "err", err)
	}
}

// badSignature recognises the error x/crypto returns when a public key signature fails to
// verify; the library has no typed error for it.
func badSignature(err error) bool {
	return errors.Is(err, rsa.ErrVerification) || strings.Contains(err.Error(), "signature")
}
