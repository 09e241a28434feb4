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
// (from its connection) LocalIP; the gateway validates and stores it inside the Request.
//
// This one type is the form everywhere: on the wire (EncodeForm writes its fields in this order,
// so a field is only ever added at the end, tagged `since:"N"` with a new protocol.Version), in
// the store and in the
// gateway's --json output (by the JSON names). A new field needs its line in Clean, with its bound.
type Form struct {
	FullName string `json:"full_name"`
	UserName string `json:"user_name"`
	Computer string `json:"computer"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Message  string `json:"message"`
	LocalIP  string `json:"local_ip"` // the agent's side of its connection to the gateway
	// Screen says whether the agent can share the person's screen: ScreenAvailable, or
	// ScreenUnavailable(why). Agents older than protocol version 4 do not say (""), and
	// every agent says it again each time it files or resumes.
	Screen string `json:"screen" since:"4"`
}

// ScreenAvailable is Form.Screen of an agent that can share the screen.
const ScreenAvailable = "available"

// ScreenUnavailable is Form.Screen of an agent that cannot, and why in a few words ("Wayland
// session"), as the technician reads it: "unavailable — Wayland session".
func ScreenUnavailable(why string) string { return screenUnavailable + why }

const screenUnavailable = "unavailable — "

// Field limits, in bytes of UTF-8.
const (
	MaxNameLen     = 128
	MaxUserNameLen = 64
	MaxComputerLen = 255
	MaxEmailLen    = 254
	MaxPhoneLen    = 32
	MaxMessageLen  = 2000
	MaxScreenLen   = 160
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
		Screen:   cleanLine(f.Screen),
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
		{"screen", out.Screen, MaxScreenLen},
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
	if why, ok := strings.CutPrefix(out.Screen, screenUnavailable); out.Screen != "" && out.Screen != ScreenAvailable && (!ok || why == "") {
		return Form{}, &FieldError{"screen", `neither "available" nor "unavailable — " and why`}
	}
	if strings.IndexFunc(out.Phone, func(r rune) bool { return !strings.ContainsRune("0123456789+-()./ ", r) }) >= 0 {
		return Form{}, &FieldError{"phone", "only digits, spaces and + - ( ) . / allowed"}
	}
	return out, nil
}

// CleanLine is text from the network made safe for a terminal or a table row: printable
// characters only, trimmed (no control characters, escapes or bidirectional overrides).
func CleanLine(s string) string { return cleanLine(s) }

// CleanText is CleanLine that keeps line breaks and tabs.
func CleanText(s string) string { return cleanText(s) }

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
