package tickets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
)

func TestEncodeDecodeForm(t *testing.T) {
	for _, f := range []Form{
		validForm(),
		{FullName: "Ada"},
		{FullName: "李小龙", Message: strings.Repeat("é", MaxMessageLen/2), LocalIP: "2001:db8::1"},
	} {
		got, v, err := DecodeForm(EncodeForm(f))
		if err != nil || got != f || v != protocol.Version {
			t.Errorf("DecodeForm(EncodeForm(%+v)) = %+v, %v", f, got, err)
		}
	}
	// DecodeForm cleans what it decodes and passes refusals on as *FieldError.
	dirty := Form{FullName: "\x1b[2JAda\u202e", Message: "hi\r\n"}
	if got, _, err := DecodeForm(EncodeForm(dirty)); err != nil || got.FullName != "[2JAda" || got.Message != "hi" {
		t.Errorf("DecodeForm of a dirty form = %+v, %v", got, err)
	}
	var fe *FieldError
	if _, _, err := DecodeForm(EncodeForm(Form{FullName: "Ada", Email: "nope"})); !errors.As(err, &fe) || fe.Field != "email" {
		t.Errorf("DecodeForm with a bad email = %v, want a *FieldError", err)
	}
}

// withVersion encodes f as an agent speaking version v does.
func withVersion(v uint32, f Form) []byte {
	return append(binary.BigEndian.AppendUint32(nil, v), protocol.Marshal(f, v)...)
}

// TestDecodeFormEveryVersion: the gateway takes the form of every version it speaks, as agents
// of that version send it, and says which version that was.
func TestDecodeFormEveryVersion(t *testing.T) {
	f := validForm()
	f.Screen = "" // not in version 1
	v1 := append([]byte{0, 0, 0, 1}, ssh.Marshal(struct {
		FullName, UserName, Computer, Email, Phone, Message, LocalIP string
	}{f.FullName, f.UserName, f.Computer, f.Email, f.Phone, f.Message, f.LocalIP})...)
	if got, v, err := DecodeForm(v1); err != nil || got != f || v != 1 {
		t.Errorf("DecodeForm of a version 1 agent's form = %+v, %d, %v", got, v, err)
	}
	f.Screen = ScreenUnavailable("no display")
	for v := uint32(protocol.MinVersion); v <= protocol.Version; v++ {
		want := f
		if v < 4 {
			want.Screen = ""
		}
		if got, gv, err := DecodeForm(withVersion(v, f)); err != nil || got != want || gv != v {
			t.Errorf("DecodeForm at version %d = %+v, %d, %v", v, got, gv, err)
		}
	}
}

// TestFormWireLayout pins the bytes agents and gateways already exchange: the version, then the
// fields in this order. Reordering Form's fields breaks every deployed agent; add at the end only.
func TestFormWireLayout(t *testing.T) {
	f := validForm()
	f.LocalIP = "192.0.2.7"
	want := ssh.Marshal(struct {
		Version                                                              uint32
		FullName, UserName, Computer, Email, Phone, Message, LocalIP, Screen string
	}{protocol.Version, f.FullName, f.UserName, f.Computer, f.Email, f.Phone, f.Message, f.LocalIP, f.Screen})
	if got := EncodeForm(f); !bytes.Equal(got, want) {
		t.Fatalf("EncodeForm = %x\nwant       %x", got, want)
	}
}

func TestDecodeFormRefuses(t *testing.T) {
	good := EncodeForm(validForm())
	future := append(withVersion(protocol.Version+1, Form{FullName: "Ada"}), ssh.Marshal(struct{ Extra string }{"x"})...)
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
		{"version 0", withVersion(0, Form{FullName: "Ada"}), fmt.Sprintf("protocol version 0, this gateway speaks 1 to %d", protocol.Version)},
		{"newer version", withVersion(protocol.Version+1, Form{FullName: "Ada"}), fmt.Sprintf("protocol version %d", protocol.Version+1)},
		{"newer version with more fields", future, fmt.Sprintf("protocol version %d", protocol.Version+1)},
		{"oversize", EncodeForm(Form{FullName: "Ada", Message: strings.Repeat("m", 9000)}), "at most 8 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeForm(tc.payload)
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
	f.Add(withVersion(1, validForm()))
	f.Add(withVersion(protocol.Version+1, Form{}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, v, err := DecodeForm(payload)
		if err != nil {
			return
		}
		if v < protocol.MinVersion || v > protocol.Version {
			t.Fatalf("accepted version %d", v)
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
			{"screen", got.Screen, MaxScreenLen},
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
		if again, gv, err := DecodeForm(withVersion(v, got)); err != nil || again != got || gv != v {
			t.Fatalf("re-encoded at version %d: %+v, %d, %v", v, again, gv, err)
		}
		if !bytes.Equal(EncodeForm(got), EncodeForm(again)) {
			t.Fatal("re-encoding differs")
		}
	})
}
