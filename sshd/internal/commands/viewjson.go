package commands

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// appendJSON appends v as json.Marshal writes it, field for field and byte for byte
// (FuzzRequestViewJSON holds it to that), but without reflection and without allocating: request
// list --json of a busy desk is a thousand of these. A field added to RequestView or to
// tickets.Form needs its line here; the fuzz target's seeds fail until it has one.
func (v *RequestView) appendJSON(b []byte) ([]byte, error) {
	for _, f := range [...]struct{ name, value string }{
		{`{"code":`, v.Code}, {`,"id":`, v.ID},
		{`,"full_name":`, v.FullName}, {`,"user_name":`, v.UserName}, {`,"computer":`, v.Computer},
		{`,"email":`, v.Email}, {`,"phone":`, v.Phone}, {`,"message":`, v.Message},
		{`,"local_ip":`, v.LocalIP}, {`,"screen":`, v.Screen},
	} {
		b = appendJSONString(append(b, f.name...), f.value)
	}
	b = append(b, `,"created":"`...)
	t, err := v.Created.AppendText(b)
	if err != nil {
		return b, fmt.Errorf("request %s: created: %w", v.Code, err)
	}
	b = append(t, '"')
	b = appendJSONString(append(b, `,"remote_addr":`...), v.RemoteAddr)
	b = appendJSONString(append(b, `,"state":`...), v.State)
	b = strconv.AppendBool(append(b, `,"online":`...), v.Online)
	b = appendJSONString(append(b, `,"owner":`...), v.Owner)
	if len(v.Notes) > 0 { // only request show has notes, and it indents with encoding/json
		notes, err := json.Marshal(v.Notes)
		if err != nil {
			return b, fmt.Errorf("request %s: notes: %w", v.Code, err)
		}
		b = append(append(b, `,"notes":`...), notes...)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string the way encoding/json writes one: ", \ and the
// control characters escaped (\b \f \n \r \t by name, the others as \u00XX), <, > and & as
// \u003c, \u003e and \u0026 (so the output is safe inside HTML), invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped (they end a line in JavaScript).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // s[start:i] is still to be appended as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
