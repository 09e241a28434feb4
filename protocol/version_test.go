package protocol

import (
	"bytes"
	"reflect"
	"testing"

	"golang.org/x/crypto/ssh"
)

// messages are the structs of messages.go, each as a sample.
var messages = []any{
	&RequestReply{Code: "K7QH-4ZPD", Resumed: true},
	&ErrorReply{Message: "no"},
	&ClosedMsg{By: "alice", Reason: "fixed"},
	&EndedMsg{Reason: "the person ended the session"},
	&ConsentAsk{SessionID: "s1", RequestCode: "K7QH-4ZPD", Technician: "alice", FullName: "Alice A.", TimeoutMillis: 120000},
	&GrantMsg{Grant: uint32(GrantView | GrantControl)},
	&ChannelRef{SessionID: "s1"},
}

// TestVersionedFields: a message's since tags are versions this build knows, in order, so that
// every version's fields are a prefix of the next one's.
func TestVersionedFields(t *testing.T) {
	for _, m := range messages {
		typ := reflect.TypeOf(m).Elem()
		last := uint32(1)
		for i := range typ.NumField() {
			f := typ.Field(i)
			s := since(f)
			if s < last || s < MinVersion || s > Version {
				t.Errorf("%s.%s: since %d after a field since %d (versions %d to %d)", typ.Name(), f.Name, s, last, MinVersion, Version)
			}
			last = s
		}
	}
}

// consentAskV1 is ConsentAsk as version 1 agents decode it, strictly.
type consentAskV1 struct{ SessionID, RequestCode, Technician, FullName string }

// TestConsentAskLayouts pins the bytes deployed agents read: version 1 has no deadline, and a
// version 1 agent refuses trailing bytes, so it must get none.
func TestConsentAskLayouts(t *testing.T) {
	ask := ConsentAsk{SessionID: "s1", RequestCode: "K7QH-4ZPD", Technician: "alice", FullName: "Alice A.", TimeoutMillis: 120000}
	v1 := ssh.Marshal(consentAskV1{ask.SessionID, ask.RequestCode, ask.Technician, ask.FullName})
	if got := Marshal(ask, 1); !bytes.Equal(got, v1) {
		t.Errorf("Marshal(ask, 1) = %x, want %x", got, v1)
	}
	var old consentAskV1
	if err := ssh.Unmarshal(Marshal(&ask, 1), &old); err != nil {
		t.Errorf("a version 1 agent cannot decode the ask encoded for it: %v", err)
	}
	v2 := append(append([]byte(nil), v1...), 0, 1, 0xd4, 0xc0)
	if got := Marshal(ask, 2); !bytes.Equal(got, v2) {
		t.Errorf("Marshal(ask, 2) = %x, want %x", got, v2)
	}
	var back ConsentAsk
	if err := Unmarshal(v1, &back, 1); err != nil || back != (ConsentAsk{SessionID: "s1", RequestCode: "K7QH-4ZPD", Technician: "alice", FullName: "Alice A."}) {
		t.Errorf("Unmarshal(v1, 1) = %+v, %v", back, err)
	}
	if err := Unmarshal(v2, &back, 2); err != nil || back != ask {
		t.Errorf("Unmarshal(v2, 2) = %+v, %v", back, err)
	}
	if err := Unmarshal(v2, &back, 1); err == nil {
		t.Error("Unmarshal took a version 2 ask as version 1")
	}
	if err := Unmarshal(v1, &back, 2); err == nil {
		t.Error("Unmarshal took a version 1 ask as version 2")
	}
}

func TestMarshalEveryVersionRoundTrips(t *testing.T) {
	for _, m := range messages {
		for v := uint32(MinVersion); v <= Version; v++ {
			out := reflect.New(reflect.TypeOf(m).Elem())
			if err := Unmarshal(Marshal(m, v), out.Interface(), v); err != nil {
				t.Errorf("%T at version %d: %v", m, v, err)
				continue
			}
			want := reflect.New(reflect.TypeOf(m).Elem()).Elem()
			full := reflect.ValueOf(m).Elem()
			for i := range fieldsIn(full.Type(), v) {
				want.Field(i).Set(full.Field(i))
			}
			if !reflect.DeepEqual(out.Elem().Interface(), want.Interface()) {
				t.Errorf("%T at version %d: round trip = %+v, want %+v", m, v, out.Elem(), want)
			}
		}
	}
}

// FuzzUnmarshal feeds the versioned decoder what a peer could send: what it accepts, encoded
// again for the same version, decodes to the same message.
func FuzzUnmarshal(f *testing.F) {
	ask := messages[4]
	for v := uint32(MinVersion); v <= Version; v++ {
		f.Add(v, Marshal(ask, v))
	}
	f.Add(uint32(2), []byte{0, 0, 0, 200})
	f.Add(uint32(7), Marshal(ask, Version))
	f.Fuzz(func(t *testing.T, v uint32, data []byte) {
		var m ConsentAsk
		if Unmarshal(data, &m, v) != nil {
			return
		}
		var again ConsentAsk
		if err := Unmarshal(Marshal(m, v), &again, v); err != nil || again != m {
			t.Fatalf("re-encoded at version %d: %+v, %v; want %+v", v, again, err, m)
		}
		if v < 2 && m.TimeoutMillis != 0 {
			t.Fatalf("version %d decoded a deadline", v)
		}
	})
}
