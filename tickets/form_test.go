package tickets

import (
	"errors"
	"strings"
	"testing"
)

func validForm() Form {
	return Form{
		FullName: "Ada Lovelace",
		UserName: "ada",
		Computer: "PC-042.corp.example",
		Email:    "ada@example.org",
		Phone:    "+44 (20) 7946-0958",
		Message:  "Excel shows #REF!\nsince this morning.",
		LocalIP:  "192.0.2.10",
		Screen:   ScreenAvailable,
	}
}

func TestCleanKeepsGoodForm(t *testing.T) {
	f := validForm()
	got, err := f.Clean()
	if err != nil || got != f {
		t.Fatalf("Clean(%+v) = %+v, %v; want it unchanged", f, got, err)
	}
	f = Form{FullName: "José Müller-Łukasiewicz 李小龙 🙂", Message: "indented\n\tparagraph\n\nend"}
	if got, err := f.Clean(); err != nil || got != f {
		t.Fatalf("Clean(%+v) = %+v, %v; letters of every script, emoji and tabs in messages are kept", f, got, err)
	}
}

// fieldOf returns a pointer to the named field, the way FieldError names it.
func fieldOf(f *Form, name string) *string {
	return map[string]*string{
		"full name": &f.FullName, "user name": &f.UserName, "computer": &f.Computer,
		"email": &f.Email, "phone": &f.Phone, "message": &f.Message, "local IP": &f.LocalIP,
		"screen": &f.Screen,
	}[name]
}

func TestCleanFieldLimits(t *testing.T) {
	for _, tc := range []struct {
		field string
		max   int
		fill  func(n int) string // a valid value of n bytes
	}{
		{"full name", MaxNameLen, func(n int) string { return strings.Repeat("a", n) }},
		{"user name", MaxUserNameLen, func(n int) string { return strings.Repeat("u", n) }},
		{"computer", MaxComputerLen, func(n int) string { return strings.Repeat("c", n) }},
		{"email", MaxEmailLen, func(n int) string { return strings.Repeat("e", n-len("@example.org")) + "@example.org" }},
		{"phone", MaxPhoneLen, func(n int) string { return strings.Repeat("5", n) }},
		{"message", MaxMessageLen, func(n int) string { return strings.Repeat("m", n) }},
		{"screen", MaxScreenLen, func(n int) string { return ScreenUnavailable(strings.Repeat("w", n-len(ScreenUnavailable("")))) }},
		// Limits are bytes of UTF-8, not characters: 2-byte 'é' reaches them at half the count.
		{"full name", MaxNameLen, func(n int) string { return strings.Repeat("é", n/2) + strings.Repeat("a", n%2) }},
		{"message", MaxMessageLen, func(n int) string { return strings.Repeat("é", n/2) + strings.Repeat("a", n%2) }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			f := validForm()
			*fieldOf(&f, tc.field) = tc.fill(tc.max)
			if len(*fieldOf(&f, tc.field)) != tc.max {
				t.Fatalf("test fill made %d bytes, want %d", len(*fieldOf(&f, tc.field)), tc.max)
			}
			if _, err := f.Clean(); err != nil {
				t.Fatalf("%s of exactly %d bytes refused: %v", tc.field, tc.max, err)
			}
			*fieldOf(&f, tc.field) = tc.fill(tc.max + 1)
			_, err := f.Clean()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("%s of %d bytes: Clean = %v, want a *FieldError for %q", tc.field, tc.max+1, err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), "at most") {
				t.Errorf("message %q does not name the field and its limit", err)
			}
			// What is stripped does not count: the limit applies to what is stored.
			*fieldOf(&f, tc.field) = tc.fill(tc.max) + strings.Repeat("\x1b\u202e\x00", 20)
			if _, err := f.Clean(); err != nil {
				t.Errorf("%d bytes plus stripped characters refused: %v", tc.max, err)
			}
		})
	}
}

func TestCleanStripsControls(t *testing.T) {
	for _, tc := range []struct {
		name, in, wantLine, wantMessage string
	}{
		{"ANSI colour", "\x1b[31mRed\x1b[0m", "[31mRed[0m", "[31mRed[0m"},
		{"ANSI clear screen and title", "\x1b[2J\x1b]0;pwned\x07Ada", "[2J]0;pwnedAda", "[2J]0;pwnedAda"},
		{"C0 controls", "A\x00d\x07a\x08\x7f", "Ada", "Ada"},
		{"C1 controls (CSI, NEL)", "A\u009b31md\u0085a", "A31mda", "A31mda"},
		{"bidi override", "evil\u202Etxt.exe", "eviltxt.exe", "eviltxt.exe"},
		{"bidi isolates and marks", "\u2066a\u2067b\u2068c\u2069\u200e\u200f\u061cd\u202a\u202b\u202c\u202d", "abcd", "abcd"},
		{"zero width and BOM", "a\u200bd\ufeffa", "ada", "ada"},
		{"line and paragraph separators", "a\u2028b\u2029c", "abc", "abc"},
		{"newlines", "line 1\nline 2\r\nline 3\rline 4", "line 1line 2line 3line 4", "line 1\nline 2\nline 3line 4"},
		{"tabs", "a\tb", "ab", "a\tb"},
		{"vertical tab and form feed", "a\vb\fc", "abc", "abc"},
		{"invalid UTF-8", "Ad\xffa\xc3", "Ad\uFFFDa\uFFFD", "Ad\uFFFDa\uFFFD"},
		{"surrounding space", "  \n\t Ada \t\n ", "Ada", "Ada"},
		{"non-breaking and ideographic spaces", "\u00a0Ada\u3000", "Ada", "Ada"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Form{FullName: tc.in, UserName: tc.in, Computer: tc.in, Message: tc.in}
			got, err := f.Clean()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct{ field, got, want string }{
				{"full name", got.FullName, tc.wantLine},
				{"user name", got.UserName, tc.wantLine},
				{"computer", got.Computer, tc.wantLine},
				{"message", got.Message, tc.wantMessage},
			} {
				if v.got != v.want {
					t.Errorf("%s: Clean(%q) = %q, want %q", v.field, tc.in, v.got, v.want)
				}
			}
			for _, s := range []string{got.FullName, got.UserName, got.Computer, got.Message} {
				if r, ok := unsafeRune(s); ok {
					t.Errorf("cleaned %q still holds %U", s, r)
				}
			}
		})
	}
}

// unsafeRune finds a rune that could move a terminal's cursor, change colours or reorder text.
func unsafeRune(s string) (rune, bool) {
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r >= 0x7f && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return r, true
		}
	}
	return 0, false
}

func TestCleanShapes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		edit      func(*Form)
		wantField string // "" means accepted
	}{
		{"no email", func(f *Form) { f.Email = "" }, ""},
		{"no phone", func(f *Form) { f.Phone = "" }, ""},
		{"plus address", func(f *Form) { f.Email = "first.last+help@mail.example.org" }, ""},
		{"email without at", func(f *Form) { f.Email = "ada.example.org" }, "email"},
		{"email without domain", func(f *Form) { f.Email = "ada@" }, "email"},
		{"email without local part", func(f *Form) { f.Email = "@example.org" }, "email"},
		{"email with display name", func(f *Form) { f.Email = "Ada <ada@example.org>" }, "email"},
		{"two emails", func(f *Form) { f.Email = "ada@example.org, bob@example.org" }, "email"},
		{"email with space", func(f *Form) { f.Email = "ada lovelace@example.org" }, "email"},
		{"phone with punctuation", func(f *Form) { f.Phone = "030/123.45-6 (7)" }, ""},
		{"phone with letters", func(f *Form) { f.Phone = "1-800-FLOWERS" }, "phone"},
		{"phone with semicolon", func(f *Form) { f.Phone = "555;rm -rf" }, "phone"},
		{"phone with extension word", func(f *Form) { f.Phone = "555 0100 ext 12" }, "phone"},
		{"no full name", func(f *Form) { f.FullName = "" }, "full name"},
		{"full name of spaces", func(f *Form) { f.FullName = " \t " }, "full name"},
		{"full name of escapes only", func(f *Form) { f.FullName = "\x1b\x07\u202e" }, "full name"},
		{"no user name, computer, message or local IP", func(f *Form) { f.UserName, f.Computer, f.Message, f.LocalIP = "", "", "", "" }, ""},
		{"IPv6 local IP", func(f *Form) { f.LocalIP = "2001:db8::1" }, ""},
		{"local IP with port", func(f *Form) { f.LocalIP = "192.0.2.10:50000" }, "local IP"},
		{"local IP a name", func(f *Form) { f.LocalIP = "pc-042" }, "local IP"},
		{"local IP of 5 octets", func(f *Form) { f.LocalIP = "1.2.3.4.5" }, "local IP"},
		{"screen not said (an older agent)", func(f *Form) { f.Screen = "" }, ""},
		{"screen unavailable and why", func(f *Form) { f.Screen = ScreenUnavailable("Wayland session") }, ""},
		{"screen unavailable without why", func(f *Form) { f.Screen = ScreenUnavailable(" ") }, "screen"},
		{"screen in other words", func(f *Form) { f.Screen = "shared with everyone" }, "screen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := validForm()
			tc.edit(&f)
			_, err := f.Clean()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Clean refused %+v: %v", f, err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.wantField || fe.Reason == "" {
				t.Fatalf("Clean(%+v) = %v, want a *FieldError for %q", f, err, tc.wantField)
			}
		})
	}
}
