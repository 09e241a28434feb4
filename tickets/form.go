package tickets

import (
	"fmt"
	"net"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Form is what a person fills in when asking for help. The agent adds UserName, Computer and
// (from its connection) LocalIP; the gateway validates and stores it.
type Form struct {
	FullName string
	UserName string
	Computer string
	Email    string
	Phone    string
	Message  string
	LocalIP  string // the agent's side of its connection to the gateway
}

// Field limits, in bytes of UTF-8.
const (
	MaxNameLen     = 128
	MaxUserNameLen = 64
	MaxComputerLen = 255
	MaxEmailLen    = 254
	MaxPhoneLen    = 32
	MaxMessageLen  = 2000
)

// FieldError names the form field that was refused and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Clean strips control characters (newlines and tabs survive in Message only), trims space, and
// checks every field's length and shape. It returns the cleaned form or a *FieldError.
func (f Form) Clean() (Form, error) {
	out := Form{
		FullName: cleanLine(f.FullName),
		UserName: cleanLine(f.UserName),
		Computer: cleanLine(f.Computer),
		Email:    cleanLine(f.Email),
		Phone:    cleanLine(f.Phone),
		Message:  cleanText(f.Message),
		LocalIP:  cleanLine(f.LocalIP),
	}
	checks := []struct {
		name  string
		value string
		max   int
	}{
		{"full name", out.FullName, MaxNameLen},
		{"user name", out.UserName, MaxUserNameLen},
		{"computer", out.Computer, MaxComputerLen},
		{"email", out.Email, MaxEmailLen},
		{"phone", out.Phone, MaxPhoneLen},
		{"message", out.Message, MaxMessageLen},
	}
	for _, c := range checks {
		if len(c.value) > c.max {
			return Form{}, &FieldError{c.name, fmt.Sprintf("%d bytes, at most %d allowed", len(c.value), c.max)}
		}
	}
	if out.FullName == "" {
		return Form{}, &FieldError{"full name", "required"}
	}
	if out.Email != "" {
		if a, err := mail.ParseAddress(out.Email); err != nil || a.Address != out.Email {
			return Form{}, &FieldError{"email", "not an address like name@example.org"}
		}
	}
	if out.LocalIP != "" && net.ParseIP(out.LocalIP) == nil {
		return Form{}, &FieldError{"local IP", "not an IP address"}
	}
	if strings.IndexFunc(out.Phone, func(r rune) bool { return !strings.ContainsRune("0123456789+-()./ ", r) }) >= 0 {
		return Form{}, &FieldError{"phone", "only digits, spaces and + - ( ) . / allowed"}
	}
	return out, nil
}

// cleanLine keeps printable characters only, so a field can neither break a table row nor
// carry a terminal escape sequence or a bidirectional override.
func cleanLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if printable(r) {
			return r
		}
		return -1
	}, toValidUTF8(s)))
}

// cleanText is cleanLine that keeps line breaks and tabs.
func cleanText(s string) string {
	s = strings.ReplaceAll(toValidUTF8(s), "\r\n", "\n")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || printable(r) {
			return r
		}
		return -1
	}, s))
}

func printable(r rune) bool {
	if unicode.Is(unicode.Bidi_Control, r) {
		return false
	}
	return unicode.IsPrint(r) || r == ' '
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
