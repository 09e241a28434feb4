package sshd

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Chat runs on a one-time session's connection, from its start: before the person answered
// (the only thing that reaches the agent then: "I'll connect in a minute") and during the
// session, never for another request. The gateway does not splice it: it reads every message,
// stamps who sent it, strips control characters and escapes, bounds it, limits each side's
// rate, and audits its size (its text only with Config.KeepChat).

// Chat rate: each side may send chatBurst messages at once, then one every chatEvery.
const (
	chatBurst = 5
	chatEvery = 500 * time.Millisecond
)

// openChat serves a chat channel of a one-time session.
func (c *conn) openChat(ss *session, nc ssh.NewChannel) {
	var open protocol.ChatOpen
	if err := ssh.Unmarshal(nc.ExtraData(), &open); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed chat request")
		return
	}
	if code, err := tickets.NormalizeCode(open.RequestCode); err != nil || code != ss.cred.RequestCode {
		reason := "this session chats only about request " + ss.cred.RequestCode
		c.refusedWith("channel "+protocol.ChatChannel, reason, map[string]string{"asked_request": clip(open.RequestCode)})
		nc.Reject(ssh.Prohibited, reason)
		return
	}
	ac, err := c.s.reachAgent(ss)
	switch {
	case err != nil:
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	case ac.agentVersion() < protocol.ChatVersion:
		nc.Reject(ssh.Prohibited, "the person's agent is too old for chat: ask them to download it again")
		return
	}
	fullName := ""
	if u, err := c.s.cfg.Store.User(ss.cred.Technician); err == nil {
		fullName = u.FullName
	}
	ach, areqs, err := ac.openChannel(protocol.ChatChannel, protocol.ChatRef{
		RequestCode: ss.cred.RequestCode, Technician: ss.cred.Technician, FullName: fullName})
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, "the person's agent refused chat: "+err.Error())
		return
	}
	go ssh.DiscardRequests(areqs)
	tch, treqs, err := nc.Accept()
	if err != nil {
		ach.Close()
		return
	}
	go ssh.DiscardRequests(treqs)
	c.s.audit(tickets.Event{Kind: "channel.opened", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: c.s.carriers(map[string]string{"type": protocol.ChatChannel, "credential": ss.cred.ID}, ac.viaGateway())})
	stop := context.AfterFunc(ss.ctx, func() { tch.Close(); ach.Close() })
	defer stop()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.s.relayChat(ss, tch, ach, tch, ss.cred.Technician); ach.Close() }()
	go func() { defer wg.Done(); c.s.relayChat(ss, ach, tch, ach, "person"); tch.Close() }()
	wg.Wait()
	c.s.audit(tickets.Event{Kind: "channel.closed", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: map[string]string{"type": protocol.ChatChannel, "credential": ss.cred.ID}})
}

// relayChat passes messages from one side to the other until either closes, as sent by from.
// A message over the rate is not passed on; its sender is told.
func (s *Server) relayChat(ss *session, src, dst, back ssh.Channel, from string) {
	rate := newChatRate(time.Now())
	for {
		m, err := protocol.ReadChat(src)
		if err != nil {
			if errors.Is(err, protocol.ErrChatFrame) {
				ss.log.Info("chat frame refused; closing chat", "from", from, "err", err)
			}
			return
		}
		text := tickets.CleanLine(m.Text)
		if text == "" {
			continue
		}
		if !rate.allow(time.Now()) {
			protocol.WriteChat(back, protocol.ChatMsg{From: "gateway", Text: "Not sent: slow down a little."})
			continue
		}
		attrs := map[string]string{"credential": ss.cred.ID, "from": from, "bytes": strconv.Itoa(len(text))}
		if s.cfg.KeepChat {
			attrs["text"] = text
		}
		s.audit(tickets.Event{Kind: "chat.message", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: attrs})
		if err := protocol.WriteChat(dst, protocol.ChatMsg{From: from, Text: text}); err != nil {
			return
		}
	}
}

// chatRate is a token bucket: chatBurst tokens, one more every chatEvery.
type chatRate struct {
	tokens float64
	last   time.Time
}

func newChatRate(now time.Time) *chatRate { return &chatRate{tokens: chatBurst, last: now} }

func (r *chatRate) allow(now time.Time) bool {
	r.tokens = min(chatBurst, r.tokens+float64(now.Sub(r.last))/float64(chatEvery))
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}
