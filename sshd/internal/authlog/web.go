package authlog

import (
	"fmt"
	"net"
)

// The help desk's web sign-in has no OpenSSH line to copy. Its lines take
// the shape of auth_log's ("Failed METHOD for [invalid user ]USER from IP
// port N") with "web password" for the method: two words, so fail2ban's
// sshd rules (and assistd's filter built on them), which read the method as
// one token, never count a web failure against the SSH jail, and
// scripts/fail2ban/filter.d/assistd-web.conf counts them for a jail that
// bans the web ports. addr is the browser as the help desk trusts it; its
// port is 0 when the address came from a trusted proxy's X-Forwarded-For.

// WebAccepted logs a help-desk sign-in:
// "Accepted web password for USER from IP port N".
func (l *Logger) WebAccepted(user string, addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("Accepted web password for %s from %s port %d", escapeUser(user), ip, port))
}

// WebFailed logs a refused password, or an account that does not exist:
// "Failed web password for [invalid user ]USER from IP port N".
func (l *Logger) WebFailed(user string, invalid bool, addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("Failed web password for %s%s from %s port %d", invalidPrefix(invalid), escapeUser(user), ip, port))
}

// WebThrottled logs a sign-in refused unchecked because its address (or
// account at that address) failed too often:
// "Refused web sign-in for USER from IP port N: too many failures".
func (l *Logger) WebThrottled(user string, addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("Refused web sign-in for %s from %s port %d: too many failures", escapeUser(user), ip, port))
}
