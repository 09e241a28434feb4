package sshd

import (
	"fmt"
	"log/slog"
	"strconv"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/sshd/internal/sftpaudit"
	"github.com/assistkit/assist/tickets"
)

// serveOTC handles a connection made with a one-time credential: the desktop channels and the
// SFTP subsystem, each checked against the person's answer and spliced to the agent.
func (s *Server) serveOTC(sc *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, log *slog.Logger) {
	ss := s.liveSession(sc.Permissions.Extensions[extFingerprint])
	if ss == nil || !ss.join(sc) {
		sc.SendRequest(tickets.EndedGlobal, false, ssh.Marshal(tickets.EndedMsg{Reason: "the session has ended"}))
		return
	}
	defer ss.leave(sc)
	go func() {
		for r := range reqs {
			if r.Type == "keepalive@openssh.com" {
				r.Reply(false, nil)
				continue
			}
			s.refuseRequest(r, sc, log)
		}
	}()
	for nc := range chans {
		switch nc.ChannelType() {
		case rdp.FramebufferChannel:
			go s.openDesktop(ss, sc, nc, tickets.GrantView, log)
		case rdp.InputChannel:
			go s.openDesktop(ss, sc, nc, tickets.GrantView|tickets.GrantControl, log)
		case "session":
			go s.openFileSession(ss, sc, nc, log)
		default:
			s.refuseChannel(nc, sc, log, ssh.Prohibited, "a one-time session opens only the desktop and SFTP")
		}
	}
}

// permit asks for consent if needed and checks that the grant covers want.
func (s *Server) permit(ss *session, sc *ssh.ServerConn, what string, want tickets.Grant, log *slog.Logger) (ssh.RejectionReason, string) {
	g, err := ss.ask()
	if err != nil {
		return ssh.ConnectionFailed, err.Error()
	}
	if !g.Allows(want) {
		reason := fmt.Sprintf("the person allowed %s; %s needs more", g, what)
		s.refused(sc, log, what, reason)
		return ssh.Prohibited, reason
	}
	return 0, ""
}

// openDesktop splices a framebuffer or input channel to the agent.
func (s *Server) openDesktop(ss *session, sc *ssh.ServerConn, nc ssh.NewChannel, want tickets.Grant, log *slog.Logger) {
	typ := nc.ChannelType()
	if why, reason := s.permit(ss, sc, typ, want, log); reason != "" {
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
	s.spliceAudited(ss, typ, pipe{ch, reqs}, agent, spliceOptions{onRefuse: func(t string) { s.refused(sc, log, typ+" request "+clip(t), "not allowed") }})
}

// openToAgent opens a channel of type typ to the agent on behalf of the session.
func (s *Server) openToAgent(ss *session, typ string) (pipe, error) {
	ac := s.agentFor(ss.cred.RequestID)
	if ac == nil {
		return pipe{}, ss.offline()
	}
	ch, reqs, err := ac.sc.OpenChannel(typ, ssh.Marshal(tickets.ChannelRef{SessionID: ss.cred.ID}))
	if err != nil {
		return pipe{}, fmt.Errorf("agent refused %s: %w", typ, err)
	}
	return pipe{ch, reqs}, nil
}

// openFileSession accepts a "session" channel on which only the sftp subsystem may start.
func (s *Server) openFileSession(ss *session, sc *ssh.ServerConn, nc ssh.NewChannel, log *slog.Logger) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	for r := range reqs {
		// Reasons go to stderr before the refusal: OpenSSH's clients quit as soon as they hear it.
		if r.Type != "subsystem" || subsystemName(r.Payload) != "sftp" {
			final := r.Type == "shell" || r.Type == "exec" || r.Type == "subsystem"
			if final {
				fmt.Fprintf(ch.Stderr(), "assistd: a one-time session offers only the sftp subsystem (scp needs its default SFTP mode, not -O)\r\n")
			}
			s.refuseRequest(r, sc, log)
			if final {
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{1}))
				ch.Close()
				return
			}
			continue
		}
		if _, reason := s.permit(ss, sc, "sftp", tickets.GrantFilesRead, log); reason != "" {
			fmt.Fprintf(ch.Stderr(), "assistd: %s\r\n", reason)
			r.Reply(false, nil)
			ch.Close()
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
			fmt.Fprintf(ch.Stderr(), "assistd: %s\r\n", err)
			r.Reply(false, nil)
			ch.Close()
			return
		}
		r.Reply(true, nil)
		s.spliceFiles(ss, sc, pipe{ch, reqs}, agent, log)
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
	s.audit(tickets.Event{Kind: "channel.opened", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: map[string]string{"type": typ, "credential": ss.cred.ID}})
	up, down := splice(tech, agent, o)
	s.audit(tickets.Event{Kind: "channel.closed", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: map[string]string{
		"type": typ, "credential": ss.cred.ID, "bytes_to_agent": strconv.FormatInt(up, 10), "bytes_to_technician": strconv.FormatInt(down, 10)}})
}

// spliceFiles splices an SFTP session, auditing every file operation from the bytes that cross
// the gateway — not from anything the agent reports.
func (s *Server) spliceFiles(ss *session, sc *ssh.ServerConn, tech, agent pipe, log *slog.Logger) {
	auditor := sftpaudit.NewAuditor(func(op sftpaudit.Op) { s.auditFileOp(ss, op) }, log)
	s.spliceAudited(ss, "sftp", tech, agent, spliceOptions{
		forward:  func(string) bool { return false },
		onRefuse: func(t string) { s.refused(sc, log, "sftp request "+clip(t), "not allowed") },
		toAgent:  auditor.ClientToServer,
		toTech:   auditor.ServerToClient,
	})
	auditor.Close()
}

// auditFileOp records one SFTP operation as an audit event "sftp.KIND".
func (s *Server) auditFileOp(ss *session, op sftpaudit.Op) {
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
	s.audit(tickets.Event{Kind: "sftp." + op.Kind, Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: attrs})
}
