package authlog

import "strings"

// maxUser is OpenSSH's "%.100s" on user names in auth log lines.
const maxUser = 100

// escapeUser truncates a client-supplied user name as OpenSSH does and
// escapes it with escapeField.
func escapeUser(user string) string {
	if len(user) > maxUser {
		user = user[:maxUser]
	}
	return escapeField(user)
}

// escapeField makes a client-supplied string safe to put in a log line,
// in the manner of OpenSSH's log.c, which passes every message through
// strnvis(VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL): printable ASCII stays as
// it is, a backslash is doubled, \n \r \t \b \a \v \f and \0 get their C
// escapes and every other byte (controls, DEL, anything >= 0x80) becomes a
// three-digit octal escape. The encoding is reversible and its output
// holds only printable ASCII, so no input can start a second line or
// smuggle a terminal escape into a sysadmin's less.
//
// One deliberate difference: a space is escaped too (\040). OpenSSH
// leaves it, and fail2ban's sshd filter needs careful regular expressions
// to stop a user name like "x from 192.0.2.1" from getting someone else's
// address banned; with the space escaped the user is always a single
// token and no such name can be forged.
func escapeField(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c > ' ' && c < 0x7f:
			b.WriteByte(c)
		case c == 0:
			// vis writes \0, or \000 when an octal digit follows, so
			// that the digit is not read as part of the escape.
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7' {
				b.WriteString(`\000`)
			} else {
				b.WriteString(`\0`)
			}
		default:
			if e := cEscape(c); e != "" {
				b.WriteString(e)
			} else {
				b.WriteByte('\\')
				b.WriteByte('0' + c>>6)
				b.WriteByte('0' + c>>3&7)
				b.WriteByte('0' + c&7)
			}
		}
	}
	return b.String()
}

// cEscape is vis's VIS_CSTYLE form of a control character, or "".
func cEscape(c byte) string {
	switch c {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\b':
		return `\b`
	case '\a':
		return `\a`
	case '\v':
		return `\v`
	case '\f':
		return `\f`
	}
	return ""
}

// isPlain reports whether s needs no escaping, the common case.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
