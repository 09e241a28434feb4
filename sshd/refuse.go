package sshd

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// Everything not explicitly allowed is refused, and every refusal leaves a log line and an audit
// event naming what was asked for.

func (c *conn) refused(what, reason string) {
	c.refusedWith(what, reason, nil)
}

// refusedWith is refused with more details for the log and audit trail (a path, a credential);
// what and reason are added to attrs.
func (c *conn) refusedWith(what, reason string, attrs map[string]string) {
	// The auth line takes WHAT as one token and escapes spaces (\040) so a peer cannot forge
	// words; ours become colons, leaving "refused channel:x11 for user …" readable.
	c.s.auth.Refused(c.sc.User(), c.sc.RemoteAddr(), strings.ReplaceAll(what, " ", ":"))
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["what"], attrs["reason"] = what, reason
	args := []any{"what", what, "reason", reason}
	for _, k := range []string{"path", "target"} {
		if v, ok := attrs[k]; ok {
			args = append(args, k, v)
		}
	}
	c.log.Info("refused", args...)
	c.audit(tickets.Event{Kind: "refused", Request: c.request, Attrs: attrs})
}

func (c *conn) refuseChannel(nc ssh.NewChannel, why ssh.RejectionReason, reason string) {
	if why == ssh.Prohibited {
		c.refused("channel "+clip(nc.ChannelType()), reason)
	} else {
		c.log.Info("channel not opened", "type", clip(nc.ChannelType()), "reason", reason)
	}
	nc.Reject(why, reason)
}

// refuseRequest answers a global or channel request with failure.
func (c *conn) refuseRequest(r *ssh.Request) {
	switch r.Type {
	case "env":
		// OpenSSH clients send LANG and LC_* by default; refusing is expected and not worth a line.
	default:
		c.refused("request "+clip(r.Type), "not allowed")
	}
	if r.WantReply {
		r.Reply(false, nil)
	}
}

// refuseSession refuses a session channel's shell, exec or subsystem request: logged and audited
// as refused, and failed on the wire with the message (see failSession).
func (c *conn) refuseSession(ch ssh.Channel, r *ssh.Request, reason, message string) {
	c.refused("request "+clip(r.Type), reason)
	failSession(ch, r, message)
}

// failSession ends a session channel whose shell, exec or subsystem request the gateway will not
// run, so that OpenSSH's clients show the person why: the request is accepted and the "program"
// fails at once with the message on stderr, as OpenSSH's own sshd does under ForceCommand.
// Replying failure instead loses the message: ssh exits the moment it hears that a shell, exec or
// subsystem request failed, before writing out the stderr it already holds, whenever both arrive
// in one read. A closing channel, in contrast, is drained before ssh exits.
func failSession(ch ssh.Channel, r *ssh.Request, message string) {
	if r.WantReply {
		r.Reply(true, nil)
	}
	fmt.Fprintf(ch.Stderr(), "%s\r\n", message)
	exit(ch, 1)
}

// exit ends a session channel the way OpenSSH's sshd does: exit-status, then EOF, then close.
// Data written before it is already queued ahead of all three.
func exit(ch ssh.Channel, status uint32) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
	ch.CloseWrite()
	ch.Close()
}

// clip bounds a peer-chosen name before it is logged.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
