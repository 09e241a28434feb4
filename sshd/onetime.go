package sshd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd/internal/sftpaudit"
	"github.com/assistkit/assist/tickets"
)

// serveOTC serves a connection made with a one-time credential: the desktop channels and the
// SFTP subsystem, each checked against the person's answer and spliced to the agent.
func (c *conn) serveOTC() {
	ss := c.s.liveSession(c.key)
	if ss == nil || !ss.join(c.sc) {
		c.sc.SendRequest(protocol.EndedGlobal, false, ssh.Marshal(protocol.EndedMsg{Reason: "the session has ended"}))
		return
	}
	defer ss.leave(c.sc)
	if ss.refusal != nil {
		ss.end(ss.refusal)
		return
	}
	go c.serveGlobalRequests()
	for nc := range c.chans {
		switch nc.ChannelType() {
		case protocol.FramebufferChannel:
			go c.openDesktop(ss, nc, protocol.GrantView)
		case protocol.InputChannel:
			go c.openDesktop(ss, nc, protocol.GrantView|protocol.GrantControl)
		case "session":
			go c.openFileSession(ss, nc)
		case protocol.ChatChannel:
			go c.openChat(ss, nc)
		default:
			c.refuseChannel(nc, ssh.Prohibited, "a one-time session opens only the desktop, chat and SFTP")
		}
	}
}

// permit asks for consent if needed and checks that the grant covers want.
func (c *conn) permit(ss *session, what string, want protocol.Grant) (ssh.RejectionReason, string) {
	g, err := ss.ask()
	if err != nil {
		return ssh.ConnectionFailed, err.Error()
	}
	if !g.Allows(want) {
		reason := fmt.Sprintf("the person allowed %s; %s needs more", g, what)
		c.refused(what, reason)
		return ssh.Prohibited, reason
	}
	return 0, ""
}

// openDesktop splices a framebuffer or input channel to the agent.
func (c *conn) openDesktop(ss *session, nc ssh.NewChannel, want protocol.Grant) {
	s := c.s
	typ := nc.ChannelType()
	if why, reason := c.permit(ss, typ, want); reason != "" {
		nc.Reject(why, reason)
		ss.endIfUnanswered()
		return
	}
	agent, err := s.openToAgent(ss, typ)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		agent.ch.Close()
		return
	}
	o, untap := ss.tap(typ, spliceOptions{onRefuse: func(t string) { c.refused(typ+" request "+clip(t), "not allowed") }})
	if typ == protocol.InputChannel {
		o.toAgent = ss.active(o.toAgent)
	}
	release := ss.guard(typ, want, ch, agent.ch)
	s.spliceAudited(ss, typ, pipe{ch: ch, reqs: reqs}, agent, o)
	release()
	untap()
}

// openToAgent opens a channel of type typ to the agent on behalf of the session.
// While the agent is away, it waits for the agent to come back (or the session to end); a
// connection that turns out to be gone is waited out the same way.
func (s *Server) openToAgent(ss *session, typ string) (pipe, error) {
	for {
		l, err := ss.currentLink()
		if err != nil {
			return pipe{}, err
		}
		ch, reqs, err := l.ac.openChannel(typ, protocol.ChannelRef{SessionID: ss.cred.ID})
		var oce *ssh.OpenChannelError
		switch {
		case err == nil:
			return pipe{ch: ch, reqs: reqs, via: l.ac.viaGateway()}, nil
		case errors.As(err, &oce):
			return pipe{}, fmt.Errorf("agent refused %s: %w", typ, err)
		}
		select { // the agent's connection failed under us: its session channel goes too
		case <-l.gone:
		case <-ss.ctx.Done():
		}
	}
}

// openFileSession accepts a "session" channel on which only the sftp subsystem may start.
func (c *conn) openFileSession(ss *session, nc ssh.NewChannel) {
	s := c.s
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	for r := range reqs {
		if r.Type != "subsystem" || subsystemName(r.Payload) != "sftp" {
			if r.Type != "shell" && r.Type != "exec" && r.Type != "subsystem" {
				c.refuseRequest(r)
				continue
			}
			go ssh.DiscardRequests(reqs)
			c.refuseSession(ch, r, "not allowed",
				"assistd: a one-time session offers only the sftp subsystem (scp needs its default SFTP mode, not -O)")
			return
		}
		if _, reason := c.permit(ss, "sftp", protocol.GrantFilesRead); reason != "" {
			go ssh.DiscardRequests(reqs)
			failSession(ch, r, "assistd: "+reason)
			ss.endIfUnanswered()
			return
		}
		agent, err := s.openToAgent(ss, "session")
		if err == nil {
			var ok bool
			ok, err = agent.ch.SendRequest("subsystem", true, r.Payload)
			if err == nil && !ok {
				err = fmt.Errorf("agent refused sftp")
			}
			if err != nil {
				agent.ch.Close()
			}
		}
		if err != nil {
			go ssh.DiscardRequests(reqs)
			failSession(ch, r, fmt.Sprintf("assistd: %s", err))
			return
		}
		r.Reply(true, nil)
		c.spliceFiles(ss, pipe{ch: ch, reqs: reqs}, agent)
		return
	}
}

func subsystemName(payload []byte) string {
	var m struct{ Name string }
	if ssh.Unmarshal(payload, &m) != nil {
		return ""
	}
	return m.Name
}

// spliceAudited splices and records the channel's opening and closing with byte counts.
func (s *Server) spliceAudited(ss *session, typ string, tech, agent pipe, o spliceOptions) {
	s.audit(tickets.Event{Kind: "channel.opened", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: s.carriers(map[string]string{"type": typ, "credential": ss.cred.ID}, agent.via)})
	up, down := splice(tech, agent, o)
	s.audit(tickets.Event{Kind: "channel.closed", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: s.carriers(map[string]string{
		"type": typ, "credential": ss.cred.ID, "bytes_to_agent": strconv.FormatInt(up, 10), "bytes_to_technician": strconv.FormatInt(down, 10)}, agent.via)})
}

// spliceFiles splices an SFTP session, auditing every file operation from the bytes that cross
// the gateway — not from anything the agent reports. While the person's answer does not allow
// writing, the gateway answers every request that would change a file itself, with permission
// denied: a permissive or outdated agent never sees it.
func (c *conn) spliceFiles(ss *session, tech, agent pipe) {
	s := c.s
	auditor := sftpaudit.NewAuditor(func(op sftpaudit.Op) {
		if op.Refused {
			c.refusedFileOp(ss, op)
			return
		}
		s.auditFileOp(ss, op)
	}, c.log)
	auditor.RefuseWrites(tech.ch, ss.filesWritable)
	defer ss.guard("sftp", protocol.GrantFilesRead, tech.ch, agent.ch)()
	s.spliceAudited(ss, "sftp", tech, agent, spliceOptions{
		forward:  func(string) bool { return false },
		onRefuse: func(t string) { c.refused("sftp request "+clip(t), "not allowed") },
		toAgent:  ss.active(auditor.ClientToServer),
		toTech:   auditor.ServerToClient,
	})
	auditor.Close()
}

// filesWritable says whether the person's answer, as it stands now, lets the technician change
// files; the error is what the technician's client is told.
func (ss *session) filesWritable() error {
	ss.mu.Lock()
	cs := ss.consent
	ss.mu.Unlock()
	if g := cs.current(); !g.Allows(protocol.GrantFilesWrite) {
		return fmt.Errorf("the person allowed %s; changing files needs more", g)
	}
	return nil
}

// refusedFileOp records an SFTP request the gateway refused: an auth line, a log line and a
// "refused" audit event naming the operation and its path.
func (c *conn) refusedFileOp(ss *session, op sftpaudit.Op) {
	attrs := fileOpAttrs(ss, op)
	delete(attrs, "error")
	c.refusedWith("sftp "+op.Kind, strings.TrimPrefix(op.Err, "permission denied: "), attrs)
	if ss.rec != nil {
		ss.rec.FileOp("refused sftp."+op.Kind, attrs)
	}
}

// auditFileOp records one SFTP operation as an audit event "sftp.KIND".
func (s *Server) auditFileOp(ss *session, op sftpaudit.Op) {
	attrs := fileOpAttrs(ss, op)
	s.audit(tickets.Event{Kind: "sftp." + op.Kind, Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: attrs})
	if ss.rec != nil {
		ss.rec.FileOp("sftp."+op.Kind, attrs)
	}
}

func fileOpAttrs(ss *session, op sftpaudit.Op) map[string]string {
	attrs := map[string]string{"credential": ss.cred.ID, "path": op.Path}
	add := func(k, v string) {
		if v != "" {
			attrs[k] = v
		}
	}
	add("target", op.Target)
	add("detail", op.Detail)
	add("error", op.Err)
	if op.Kind == sftpaudit.KindClose {
		attrs["bytes"] = strconv.FormatInt(op.Bytes, 10)
		attrs["read"] = strconv.FormatInt(op.Read, 10)
		attrs["written"] = strconv.FormatInt(op.Written, 10)
	}
	return attrs
}
