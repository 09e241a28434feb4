package tickets

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestEncodeDecodeForm(t *testing.T) {
	for _, f := range []Form{
		validForm(),
		{FullName: "Ada"},
		{FullName: "李小龙", Message: strings.Repeat("é", MaxMessageLen/2), LocalIP: "2001:db8::1"},
	} {
		got, err := DecodeForm(EncodeForm(f))
		if err != nil || got != f {
			t.Errorf("DecodeForm(EncodeForm(%+v)) = %+v, %v", f, got, err)
		}
	}
	// DecodeForm cleans what it decodes and passes refusals on as *FieldError.
	dirty := Form{FullName: "\x1b[2JAda\u202e", Message: "hi\r\n"}
	if got, err := DecodeForm(EncodeForm(dirty)); err != nil || got.FullName != "[2JAda" || got.Message != "hi" {
		t.Errorf("DecodeForm of a dirty form = %+v, %v", got, err)
	}
	var fe *FieldError
	if _, err := DecodeForm(EncodeForm(Form{FullName: "Ada", Email: "nope"})); !errors.As(err, &fe) || fe.Field != "email" {
		t.Errorf("DecodeForm with a bad email = %v, want a *FieldError", err)
	}
}

func TestDecodeFormRefuses(t *testing.T) {
	good := EncodeForm(validForm())
	future := append(ssh.Marshal(FormMsg{Version: ProtocolVersion + 1, FullName: "Ada"}), ssh.Marshal(struct{ Extra string }{"x"})...)
	for _, tc := range []struct {
		name    string
		payload []byte
		want    string
	}{
		{"empty", nil, "malformed"},
		{"truncated", good[:len(good)-3], "malformed"},
		{"only a version", good[:4], "malformed"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), "malformed"},
		{"string length past the end", append([]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}, good[4:]...), "malformed"},
		{"version 0", ssh.Marshal(FormMsg{Version: 0, FullName: "Ada"}), "protocol version 0, this gateway speaks 1"},
		{"newer version", ssh.Marshal(FormMsg{Version: ProtocolVersion + 1, FullName: "Ada"}), "protocol version 2"},
		{"newer version with more fields", future, "protocol version 2"},
		{"oversize", EncodeForm(Form{FullName: "Ada", Message: strings.Repeat("m", 9000)}), "at most 8 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeForm(tc.payload)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "request form") {
				t.Fatalf("DecodeForm = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func FuzzDecodeForm(f *testing.F) {
	f.Add(EncodeForm(validForm()))
	f.Add(EncodeForm(Form{FullName: "\x1b[31mAda\u202e", Message: "a\r\nb\x00", Email: "x@y", Phone: "1", LocalIP: "::1"}))
	f.Add(EncodeForm(Form{FullName: "Ada", Computer: strings.Repeat("c", 300)}))
	f.Add(EncodeForm(Form{}))
	f.Add(ssh.Marshal(FormMsg{Version: 2}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := DecodeForm(payload)
		if err != nil {
			return
		}
		again, err := got.Clean()
		if err != nil || again != got {
			t.Fatalf("DecodeForm's output %+v does not pass Clean unchanged: %+v, %v", got, again, err)
		}
		for _, c := range []struct {
			name, v string
			max     int
		}{
			{"full name", got.FullName, MaxNameLen}, {"user name", got.UserName, MaxUserNameLen},
			{"computer", got.Computer, MaxComputerLen}, {"email", got.Email, MaxEmailLen},
			{"phone", got.Phone, MaxPhoneLen}, {"message", got.Message, MaxMessageLen},
		} {
			if len(c.v) > c.max {
				t.Fatalf("%s is %d bytes, limit %d", c.name, len(c.v), c.max)
			}
			if r, bad := unsafeRune(c.v); bad {
				t.Fatalf("%s %q holds %U", c.name, c.v, r)
			}
			if c.name != "message" && strings.ContainsAny(c.v, "\n\t") {
				t.Fatalf("%s %q holds a line break or tab", c.name, c.v)
			}
		}
		if got.FullName == "" {
			t.Fatal("accepted a form without a name")
		}
		if !bytes.Equal(EncodeForm(got), EncodeForm(again)) {
			t.Fatal("re-encoding differs")
		}
	})
}

func TestParseGrantWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Grant
	}{
		{"deny", 0},
		{"view", GrantView},
		{"control", GrantView | GrantControl},
		{"files", GrantFilesRead | GrantFilesWrite},
		{"files-ro", GrantFilesRead},
		{"full", GrantView | GrantControl | GrantFilesRead | GrantFilesWrite},
		{"view,files-ro", GrantView | GrantFilesRead},
		{" Control , FILES ", GrantView | GrantControl | GrantFilesRead | GrantFilesWrite},
		{"deny,view", GrantView},
	} {
		got, err := ParseGrant(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseGrant(%q) = %b, %v; want %b", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yes", "view,", ",view", "view;control", "files-rw", "viewcontrol"} {
		if g, err := ParseGrant(bad); err == nil {
			t.Errorf("ParseGrant(%q) = %b, want an error", bad, g)
		} else if !strings.Contains(err.Error(), "want deny, view, control, files, files-ro or full") {
			t.Errorf("ParseGrant(%q) error %q does not list the words", bad, err)
		}
	}
}

// TestGrantRoundTrip covers every combination of ParseGrant's words.
func TestGrantRoundTrip(t *testing.T) {
	for mask := 1; mask < 1<<len(grantWords); mask++ {
		var words []string
		for i, gw := range grantWords {
			if mask&(1<<i) != 0 {
				words = append(words, gw.word)
			}
		}
		in := strings.Join(words, ",")
		g, err := ParseGrant(in)
		if err != nil {
			t.Fatalf("ParseGrant(%q): %v", in, err)
		}
		back, err := ParseGrant(g.String())
		if err != nil || back != g {
			t.Errorf("ParseGrant(%q) = %b, String %q, parsed back %b, %v", in, g, g.String(), back, err)
		}
	}
}

func TestGrantString(t *testing.T) {
	for _, tc := range []struct {
		g    Grant
		want string
	}{
		{0, "deny"},
		{GrantView, "view"},
		{GrantView | GrantControl, "control"},
		{GrantView | GrantFilesRead, "view,files-ro"},
		{GrantView | GrantControl | GrantFilesRead | GrantFilesWrite, "control,files"},
		{GrantFilesRead | GrantFilesWrite, "files"},
		// Bits ParseGrant never sets on their own (an agent could still send them) are shown,
		// not dropped: a grant that allows something never prints as "" or "deny".
		{GrantControl, "0x2"},
		{GrantFilesWrite, "0x8"},
		{GrantView | GrantFilesWrite, "view,0x8"},
		{GrantView | 1<<7, "view,0x80"},
	} {
		if got := tc.g.String(); got != tc.want {
			t.Errorf("Grant(%#x).String() = %q, want %q", uint32(tc.g), got, tc.want)
		}
	}
	for g := Grant(1); g < 1<<8; g++ {
		if s := g.String(); s == "" || s == "deny" {
			t.Errorf("Grant(%#x).String() = %q", uint32(g), s)
		}
	}
}

func TestGrantAllows(t *testing.T) {
	full := GrantView | GrantControl | GrantFilesRead | GrantFilesWrite
	for _, tc := range []struct {
		g, want Grant
		ok      bool
	}{
		{full, GrantControl, true},
		{GrantView, GrantView, true},
		{GrantView, GrantControl, false},
		{GrantView, GrantView | GrantControl, false},
		{GrantFilesRead, GrantFilesWrite, false},
		{full, 0, false}, // asking for nothing is never "allowed"
		{0, GrantView, false},
	} {
		if got := tc.g.Allows(tc.want); got != tc.ok {
			t.Errorf("%s.Allows(%s) = %v, want %v", tc.g, tc.want, got, tc.ok)
		}
	}
}

func TestWireMessagesRoundTrip(t *testing.T) {
	for _, m := range []any{
		&RequestReply{Code: "K7QH-4ZPD", Resumed: true},
		&ErrorReply{Message: "no"},
		&ClosedMsg{By: "alice", Reason: "fixed"},
		&EndedMsg{Reason: "the person ended the session"},
		&ConsentAsk{SessionID: "s1", RequestCode: "K7QH-4ZPD", Technician: "alice", FullName: "Alice A."},
		&GrantMsg{Grant: uint32(GrantView | GrantControl)},
		&ChannelRef{SessionID: "s1"},
	} {
		b := ssh.Marshal(m)
		out := reflect.New(reflect.TypeOf(m).Elem()).Interface()
		if err := ssh.Unmarshal(b, out); err != nil || fmt.Sprint(out) != fmt.Sprint(m) {
			t.Errorf("%T: round trip = %v, %v", m, out, err)
		}
	}
}
