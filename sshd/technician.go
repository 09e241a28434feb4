package sshd

import (
	"context"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/sshd/internal/commands"
	"github.com/assistkit/assist/tickets"
)

// serveTechnician serves a technician's login: "session" channels running one command each
// through exec, nothing else — no shell, no pty, no forwarding.
func (c *conn) serveTechnician() {
	go c.serveGlobalRequests()
	for nc := range c.chans {
		if nc.ChannelType() != "session" {
			c.refuseChannel(nc, ssh.Prohibited, "technicians run commands only; no forwarding")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go c.runExec(ch, creqs)
	}
}

// runExec waits for the exec request on a session channel and runs the command.
func (c *conn) runExec(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for r := range reqs {
		switch r.Type {
		case "exec":
			var m struct{ Command string }
			if err := ssh.Unmarshal(r.Payload, &m); err != nil {
				r.Reply(false, nil)
				return
			}
			r.Reply(true, nil)
			// The command stops when the technician closes the channel (a watch that is
			// interrupted), not only when their connection goes.
			ctx, cancel := context.WithCancel(c.ctx)
			go func() {
				ssh.DiscardRequests(reqs)
				cancel()
			}()
			exit(ch, c.execute(ctx, ch, m.Command))
			cancel()
			return
		case "shell", "subsystem":
			go ssh.DiscardRequests(reqs)
			c.refuseSession(ch, r, "not allowed",
				fmt.Sprintf("assistd: no shell here; run a command, e.g.: ssh -p PORT %s@GATEWAY request list", c.sc.User()))
			return
		default: // pty-req, x11-req, auth-agent-req@openssh.com, env …
			c.refuseRequest(r)
		}
	}
}

// execute runs one command line for the connection's technician and returns its exit status.
// The command runs under ctx: it stops when the technician goes.
func (c *conn) execute(ctx context.Context, ch ssh.Channel, line string) uint32 {
	env := commands.Env{Gateway: gatewayOps{c.s}, Store: c.s.cfg.Store, Log: c.log, Now: c.s.cfg.Now}
	if c.s.cfg.Record.Mode != RecordOff || c.s.cfg.Record.Dir != "" {
		env.Recordings = gatewayRecordings{c.s}
	}
	who := commands.Caller{Name: c.sc.User(), Role: c.account, Addr: c.sc.LocalAddr().String()}
	return commands.Run(ctx, env, who, line, ch, ch, ch.Stderr())
}

// gatewayOps is the server as the command tree reaches it.
type gatewayOps struct{ *Server }

func (g gatewayOps) Audit(e tickets.Event) { g.audit(e) }

// RequestView is a request as "request list --json" and "request show --json" print it.
type RequestView = commands.RequestView

// expireStaleCredentials marks credentials whose session died with a previous run as spent:
// a session does not outlive the gateway process that held it.
func (s *Server) expireStaleCredentials() {
	n, err := s.cfg.Store.EndStaleSessions()
	if err != nil {
		s.log.Error("end the sessions of the previous run", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("credentials of sessions the previous run held are spent", "credentials", n)
	}
}

// WatchLine is a line of "request watch --json".
type WatchLine = commands.WatchLine
