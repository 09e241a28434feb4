// Package authlog writes the gateway's authentication events as one line
// each, in OpenSSH's exact wording, so that fail2ban and the log parsers a
// sysadmin already runs read assistd's lines as they read sshd's.
//
// The wording follows OpenSSH's auth.c (auth_log, auth_maxtries_exceeded),
// auth2.c / auth.c getpwnamallow ("Invalid user"), packet.c
// (sshpkt_fatal's "Connection closed by", "Disconnected from") and sshd's
// login grace alarm ("Timeout before authentication"). Everything that came
// from the network is escaped first (see escape.go): one call, one line.
package authlog

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configures a Logger. The zero value is usable: Daemon defaults to
// "assistd", Hostname to the short host name, PID to this process, Now to
// time.Now.
type Options struct {
	// Daemon is the program name in the syslog prefix ("assistd").
	Daemon string
	// Syslog prefixes each line with "Mmm dd hh:mm:ss HOST DAEMON[PID]: ",
	// as syslogd writes /var/log/auth.log; use it for a plain log file.
	// Without it the line is the bare message, for journald or stderr,
	// which add their own prefix.
	Syslog   bool
	Hostname string
	PID      int
	Now      func() time.Time
}

// Logger writes authentication events to an io.Writer, one Write per line.
// It is safe for concurrent use; lines from concurrent calls never
// interleave.
type Logger struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string // "HOST DAEMON[PID]: ", used when syslog is set
	syslog bool
	now    func() time.Time
	buf    bytes.Buffer
}

// New returns a Logger writing to w.
func New(w io.Writer, o Options) *Logger {
	if o.Daemon == "" {
		o.Daemon = "assistd"
	}
	if o.Hostname == "" {
		o.Hostname = shortHostname()
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Logger{
		w:      w,
		prefix: escapeField(o.Hostname) + " " + escapeField(o.Daemon) + "[" + strconv.Itoa(o.PID) + "]: ",
		syslog: o.Syslog,
		now:    o.Now,
	}
}

// shortHostname is what syslogd writes: the host name up to the first dot.
func shortHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	if i := bytes.IndexByte([]byte(h), '.'); i > 0 {
		h = h[:i]
	}
	return h
}

// Accepted logs a successful login:
// "Accepted publickey for USER from IP port N ssh2: ED25519 SHA256:...".
func (l *Logger) Accepted(method, user string, addr net.Addr, key ssh.PublicKey) {
	l.authResult("Accepted", method, user, false, addr, key)
}

// Failed logs a rejected attempt:
// "Failed publickey for [invalid user ]USER from IP port N ssh2[: KEY]".
func (l *Logger) Failed(method, user string, invalid bool, addr net.Addr, key ssh.PublicKey) {
	l.authResult("Failed", method, user, invalid, addr, key)
}

// authResult is OpenSSH's auth_log line.
func (l *Logger) authResult(verb, method, user string, invalid bool, addr net.Addr, key ssh.PublicKey) {
	ip, port := hostPort(addr)
	msg := fmt.Sprintf("%s %s for %s%s from %s port %d ssh2", verb, escapeField(method), invalidPrefix(invalid), escapeUser(user), ip, port)
	if key != nil {
		msg += ": " + keyInfo(key)
	}
	l.write(msg)
}

// InvalidUser logs a login attempt for an account that does not exist:
// "Invalid user USER from IP port N".
func (l *Logger) InvalidUser(user string, addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("Invalid user %s from %s port %d", escapeUser(user), ip, port))
}

// ClosedPreauth logs a client that went away before authenticating:
// "Connection closed by [invalid|authenticating] user USER IP port N [preauth]",
// or "Connection closed by IP port N [preauth]" when no user name was sent.
func (l *Logger) ClosedPreauth(user string, invalid bool, addr net.Addr) {
	ip, port := hostPort(addr)
	who := ""
	if user != "" {
		kind := "authenticating"
		if invalid {
			kind = "invalid"
		}
		who = kind + " user " + escapeUser(user) + " "
	}
	l.write(fmt.Sprintf("Connection closed by %s%s port %d [preauth]", who, ip, port))
}

// MaxAuthTries logs a connection dropped for too many attempts:
// "error: maximum authentication attempts exceeded for [invalid user ]USER from IP port N ssh2 [preauth]".
func (l *Logger) MaxAuthTries(user string, invalid bool, addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("error: maximum authentication attempts exceeded for %s%s from %s port %d ssh2 [preauth]",
		invalidPrefix(invalid), escapeUser(user), ip, port))
}

// TimeoutPreauth logs a connection dropped by the login grace timer:
// "fatal: Timeout before authentication for IP port N".
func (l *Logger) TimeoutPreauth(addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("fatal: Timeout before authentication for %s port %d", ip, port))
}

// Disconnected logs the end of an authenticated connection:
// "Disconnected from user USER IP port N".
func (l *Logger) Disconnected(user string, addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("Disconnected from user %s %s port %d", escapeUser(user), ip, port))
}

// Refused logs a request refused after authentication (a shell, a port
// forward, a channel type the gateway does not serve):
// "refused WHAT for user USER from IP port N". OpenSSH has no single line
// for this; the wording is ours, chosen so that no fail2ban sshd rule takes
// it for an authentication failure (the user did authenticate).
func (l *Logger) Refused(user string, addr net.Addr, what string) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("refused %s for user %s from %s port %d", escapeField(what), escapeUser(user), ip, port))
}

func invalidPrefix(invalid bool) string {
	if invalid {
		return "invalid user "
	}
	return ""
}

// write emits msg as one line with one Write call. msg holds no newline:
// every field that could carry one went through the escaper.
func (l *Logger) write(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
	if l.syslog {
		l.buf.WriteString(l.now().Format(time.Stamp))
		l.buf.WriteByte(' ')
		l.buf.WriteString(l.prefix)
	}
	l.buf.WriteString(msg)
	l.buf.WriteByte('\n')
	// A log line that cannot be written has nowhere else to go; the
	// gateway's audit trail in the store is the record that must not fail.
	_, _ = l.w.Write(l.buf.Bytes())
}

// NoIdentification logs a connection that sent no SSH version line before
// it closed or its deadline passed, as OpenSSH 7 did:
// "Did not receive identification string from IP port N". fail2ban's sshd
// filter counts it in its ddos and aggressive modes.
func (l *Logger) NoIdentification(addr net.Addr) {
	ip, port := hostPort(addr)
	l.write(fmt.Sprintf("Did not receive identification string from %s port %d", ip, port))
}

// Dropped logs a connection closed before its handshake because its
// source already holds its share of the handshake slots, in the form of
// OpenSSH's MaxStartups line:
// "drop connection #N from [IP]:PORT on [IP]:PORT past PerSourceMaxStartups"
// (N is the number of handshakes the source has in progress).
func (l *Logger) Dropped(n int, remote, local net.Addr) {
	rip, rport := hostPort(remote)
	lip, lport := hostPort(local)
	l.write(fmt.Sprintf("drop connection #%d from [%s]:%d on [%s]:%d past PerSourceMaxStartups", n, rip, rport, lip, lport))
}

// DroppedMore summarises the connections from one address dropped after
// the one Dropped logged, so a flood writes one line per interval:
// "drop connection from [IP]: N more past PerSourceMaxStartups in the last 10s".
func (l *Logger) DroppedMore(ip net.IP, n int, interval time.Duration) {
	host, _ := hostPort(&net.TCPAddr{IP: ip})
	l.write(fmt.Sprintf("drop connection from [%s]: %d more past PerSourceMaxStartups in the last %s", host, n, interval))
}

// Suppressed says how many pre-authentication lines of one address were
// not written, its budget for the interval spent:
// "suppressed N more lines about IP in the last 10s [preauth]".
// fail2ban counts none of it; the lines before it were counted.
func (l *Logger) Suppressed(ip net.IP, n int, interval time.Duration) {
	host, _ := hostPort(&net.TCPAddr{IP: ip})
	l.write(fmt.Sprintf("suppressed %d more lines about %s in the last %s [preauth]", n, host, interval))
}
