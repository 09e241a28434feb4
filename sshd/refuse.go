package sshd

import (
	"log/slog"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// Everything not explicitly allowed is refused, and every refusal leaves a log line and an audit
// event naming what was asked for.

func (s *Server) refused(sc *ssh.ServerConn, log *slog.Logger, what, reason string) {
	// The auth line takes WHAT as one token and escapes spaces (\040) so a peer cannot forge
	// words; ours become colons, leaving "refused channel:x11 for user …" readable.
	s.auth.Refused(sc.User(), sc.RemoteAddr(), strings.ReplaceAll(what, " ", ":"))
	log.Info("refused", "what", what, "reason", reason)
	s.audit(tickets.Event{Kind: "refused", Actor: actorOf(sc.User(), sc.Permissions), Remote: sc.RemoteAddr().String(),
		Request: sc.Permissions.Extensions[extRequest], Attrs: map[string]string{"what": what, "reason": reason}})
}

// refuseChannels rejects every channel a connection opens.
func (s *Server) refuseChannels(chans <-chan ssh.NewChannel, sc *ssh.ServerConn, log *slog.Logger, reason string) {
	for nc := range chans {
		s.refuseChannel(nc, sc, log, ssh.Prohibited, reason)
	}
}

func (s *Server) refuseChannel(nc ssh.NewChannel, sc *ssh.ServerConn, log *slog.Logger, why ssh.RejectionReason, reason string) {
	if why == ssh.Prohibited {
		s.refused(sc, log, "channel "+clip(nc.ChannelType()), reason)
	} else {
		log.Info("channel not opened", "type", clip(nc.ChannelType()), "reason", reason)
	}
	nc.Reject(why, reason)
}

// refuseRequest answers a global or channel request with failure.
func (s *Server) refuseRequest(r *ssh.Request, sc *ssh.ServerConn, log *slog.Logger) {
	switch r.Type {
	case "env":
		// OpenSSH clients send LANG and LC_* by default; refusing is expected and not worth a line.
	default:
		s.refused(sc, log, "request "+clip(r.Type), "not allowed")
	}
	if r.WantReply {
		r.Reply(false, nil)
	}
}

// clip bounds a peer-chosen name before it is logged.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
