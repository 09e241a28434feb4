package sshd

import "github.com/assistkit/assist/sshd/internal/authlog"

// AuthLog is the gateway's OpenSSH-style auth log. The help desk writes its sign-in lines there
// too (helpdesk.Config.AuthLog), so one file or journal feeds every fail2ban jail of assistd.
func (s *Server) AuthLog() *authlog.Logger { return s.auth }
