package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// serveTechnician handles a technician's login: "session" channels running one command each
// through exec, nothing else — no shell, no pty, no forwarding.
func (s *Server) serveTechnician(sc *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, log *slog.Logger) {
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
		if nc.ChannelType() != "session" {
			s.refuseChannel(nc, sc, log, ssh.Prohibited, "technicians run commands only; no forwarding")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.runExec(sc, ch, creqs, log)
	}
}

// runExec waits for the exec request on a session channel and runs the command.
func (s *Server) runExec(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request, log *slog.Logger) {
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
			go ssh.DiscardRequests(reqs)
			status := s.execute(sc, ch, m.Command, log)
			ch.CloseWrite()
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		case "shell", "subsystem":
			// The hint goes out before the refusal: OpenSSH's ssh exits as soon as it hears
			// the shell request failed, and would never print a message sent after it.
			fmt.Fprintf(ch.Stderr(), "assistd: no shell here; run a command, e.g.: ssh -p PORT %s@GATEWAY request list\r\n", sc.User())
			s.refuseRequest(r, sc, log)
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{1}))
			return
		default: // pty-req, x11-req, auth-agent-req@openssh.com, env …
			s.refuseRequest(r, sc, log)
		}
	}
}

// execute runs one command line for the connection's technician and returns its exit status.
func (s *Server) execute(sc *ssh.ServerConn, ch ssh.Channel, line string, log *slog.Logger) uint32 {
	args, err := splitArgs(line)
	if err != nil {
		fmt.Fprintf(ch.Stderr(), "assistd: %v\n", err)
		return 2
	}
	caller := caller{
		name:  sc.User(),
		admin: sc.Permissions.Extensions[extAdmin] == "true",
		addr:  sc.LocalAddr().String(),
	}
	log.Info("command", "args", clip(strings.Join(args, " ")))
	cmd := s.commands(caller, ch, ch, ch.Stderr())
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		var ue *usageError
		fmt.Fprintf(ch.Stderr(), "assistd: %v\n", err)
		// Cobra does not type its "unknown command" error; every other usage error is wrapped
		// by the tree itself (see markUsage).
		if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
			fmt.Fprintf(ch.Stderr(), "hint: run 'help' or add --help to a command\n")
			return 2
		}
		return 1
	}
	return 0
}

// caller is who runs a command.
type caller struct {
	name  string
	admin bool
	addr  string // the gateway address the technician reached, for .otc files
}

// usageError is a command line the tree could not accept (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// markUsage makes flag and argument errors of every command in the tree usage errors.
func markUsage(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markUsage(sub)
	}
}

// splitArgs splits a command line as a POSIX shell would for plain words, single and double
// quotes and backslash escapes; nothing is expanded.
func splitArgs(line string) ([]string, error) {
	if len(line) > 64<<10 {
		return nil, errors.New("command line too long")
	}
	var args []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, errors.New("unterminated quote or escape in command")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// expireStaleCredentials marks credentials whose session died with a previous run as spent:
// a session does not outlive the gateway process that held it.
func (s *Server) expireStaleCredentials() {
	reqs, err := s.cfg.Store.Requests(false)
	if err != nil {
		s.log.Error("list requests", "err", err)
		return
	}
	for _, r := range reqs {
		creds, err := s.cfg.Store.CredentialsForRequest(r.ID)
		if err != nil {
			s.log.Error("list credentials", "request", r.Code, "err", err)
			continue
		}
		for _, c := range creds {
			if c.State == tickets.CredentialActive {
				s.cfg.Store.UpdateCredential(c.Fingerprint, func(c *tickets.Credential) error {
					c.State, c.Ended = tickets.CredentialSpent, s.cfg.Now().UTC()
					return nil
				})
			}
		}
		if r.State == tickets.StateActive {
			s.cfg.Store.UpdateRequest(r.ID, func(r *tickets.Request) error { r.State = tickets.StateWaiting; return nil })
		}
	}
}
