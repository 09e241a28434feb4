package sshd

import (
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// When the person narrows the grant during a session, the gateway refuses new channels the
// narrowed grant does not cover; the channels already spliced that it no longer covers are
// closed by the gateway too, on both sides, so that a permissive or outdated agent that keeps
// its side open does not keep input (or files) flowing. Each splice is guarded: registered on
// the session's consent while it runs, checked under the consent's lock after every narrowing.

// guard is a spliced channel pair and the grant it needs.
type guard struct {
	typ         string
	want        protocol.Grant
	tech, agent ssh.Channel
}

// guard registers the splice of tech and agent, of type typ, as needing want; the returned
// function releases it when the splice ends. A grant narrowed before the registration revokes
// the splice at once.
func (ss *session) guard(typ string, want protocol.Grant, tech, agent ssh.Channel) (release func()) {
	ss.mu.Lock()
	cs := ss.consent
	ss.mu.Unlock()
	gd := &guard{typ: typ, want: want, tech: tech, agent: agent}
	cs.mu.Lock()
	now := cs.grant
	covered := now.Allows(want)
	if covered {
		if cs.guards == nil {
			cs.guards = map[*guard]struct{}{}
		}
		cs.guards[gd] = struct{}{}
	}
	cs.mu.Unlock()
	if !covered {
		ss.revoke(gd, now)
		return func() {}
	}
	return func() {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		delete(cs.guards, gd)
	}
}

// revokeUncovered closes every guarded splice that the grant, as it stands now, no longer covers.
func (ss *session) revokeUncovered() {
	ss.mu.Lock()
	cs := ss.consent
	ss.mu.Unlock()
	if cs == nil {
		return
	}
	cs.mu.Lock()
	now := cs.grant
	var gone []*guard
	for gd := range cs.guards {
		if !now.Allows(gd.want) {
			gone = append(gone, gd)
			delete(cs.guards, gd)
		}
	}
	cs.mu.Unlock()
	for _, gd := range gone { // closing sends on the connections: not under the lock
		ss.revoke(gd, now)
	}
}

// revoke closes both sides of a splice the grant g no longer covers and records why.
func (ss *session) revoke(gd *guard, g protocol.Grant) {
	gd.tech.Close()
	gd.agent.Close()
	ss.log.Info("channel revoked: the person's answer no longer covers it", "type", gd.typ, "grant", g, "needs", gd.want)
	ss.s.audit(tickets.Event{Kind: "channel.revoked", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: map[string]string{"type": gd.typ, "grant": g.String(), "credential": ss.cred.ID}})
}
