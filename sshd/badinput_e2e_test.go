package sshd_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// fileRaw sends request@ with payload from a hand-made agent connection, as a modified or
// hostile agent could, and returns the gateway's answer.
func fileRaw(t *testing.T, g *testenv.Gateway, payload []byte) (bool, []byte) {
	t.Helper()
	c := mustDial(t, g, protocol.AgentUser, testenv.NewKey(t))
	ok, reply, err := c.SendRequest(protocol.RequestGlobal, true, payload)
	if err != nil {
		t.Fatalf("send request@: %v", err)
	}
	return ok, reply
}

func TestBadFormRefusedNothingStored(t *testing.T) {
	long := tickets.Form{FullName: "Pat", Message: strings.Repeat("x", tickets.MaxMessageLen+1)}
	newer := binary.BigEndian.AppendUint32(nil, protocol.Version+1)
	cases := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"over-long message", tickets.EncodeForm(long), "message: 2001 bytes, at most 2000 allowed"},
		{"over-long payload", tickets.EncodeForm(tickets.Form{FullName: strings.Repeat("n", 9000)}), "at most 8 KiB"},
		{"truncated", tickets.EncodeForm(tickets.Form{FullName: "Pat"})[:10], "malformed"},
		{"garbage", []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}, "malformed"},
		{"empty", nil, "malformed"},
		{"newer version", append(newer, tickets.EncodeForm(tickets.Form{FullName: "Pat"})[4:]...), fmt.Sprintf("protocol version %d, this gateway speaks 1 to %d", protocol.Version+1, protocol.Version)},
		{"no name", tickets.EncodeForm(tickets.Form{Email: "a@example.org"}), "full name: required"},
		{"bad email", tickets.EncodeForm(tickets.Form{FullName: "Pat", Email: "not an address"}), "email"},
		{"bad local IP", tickets.EncodeForm(tickets.Form{FullName: "Pat", LocalIP: "300.1.1.1"}), "local IP"},
		{"letters in phone", tickets.EncodeForm(tickets.Form{FullName: "Pat", Phone: "call me maybe"}), "phone"},
	}
	g := testenv.StartGateway(t, testenv.Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, reply := fileRaw(t, g, c.payload)
			if ok {
				t.Fatalf("gateway accepted %s", c.name)
			}
			var e protocol.ErrorReply
			if err := ssh.Unmarshal(reply, &e); err != nil || !strings.Contains(e.Message, c.want) {
				t.Fatalf("refusal says %q (%v), want it to mention %q", e.Message, err, c.want)
			}
		})
	}
	page, err := g.Store.Requests(tickets.RequestQuery{Closed: true})
	reqs := page.Requests
	if err != nil || len(reqs) != 0 {
		t.Fatalf("store holds %d requests (%v) after bad forms, want none", len(reqs), err)
	}
	if n := len(events(t, g, "request.refused")); n != len(cases) {
		t.Errorf("%d request.refused audit events, want %d", n, len(cases))
	}
}

// TestHostileFieldsStoredPlain: a hostile agent's escapes and bidi overrides are stripped before
// storage; markup stays as plain text and reaches the table as plain text.
func TestHostileFieldsStoredPlain(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	hostile := tickets.Form{
		FullName: "Eve \x1b[31mRed\x1b[0m \u202eevil\u202c <script>alert(1)</script>",
		UserName: "eve\x07\x08",
		Computer: "PC\r\nINJECTED-ROW",
		Message:  "line one\nline two \x1b]0;pwned\x07 \u2066iso\u2069\x00",
	}
	ok, reply := fileRaw(t, g, tickets.EncodeForm(hostile))
	if !ok {
		var e protocol.ErrorReply
		ssh.Unmarshal(reply, &e)
		t.Fatalf("hostile but bounded form refused: %s", e.Message)
	}
	var rr protocol.RequestReply
	if err := ssh.Unmarshal(reply, &rr); err != nil {
		t.Fatal(err)
	}
	r, err := g.Store.Request(rr.Code)
	if err != nil {
		t.Fatal(err)
	}
	want := tickets.Form{FullName: "Eve [31mRed[0m evil <script>alert(1)</script>", UserName: "eve", Computer: "PCINJECTED-ROW",
		Message: "line one\nline two ]0;pwned iso"}
	if r.FullName != want.FullName || r.UserName != want.UserName || r.Computer != want.Computer || r.Message != want.Message {
		t.Fatalf("stored %q %q %q %q\nwant   %q %q %q %q", r.FullName, r.UserName, r.Computer, r.Message,
			want.FullName, want.UserName, want.Computer, want.Message)
	}
	table, _, _ := g.Exec(t, alice, "request", "list")
	show, _, _ := g.Exec(t, alice, "request", "show", rr.Code)
	for name, out := range map[string]string{"list": table, "show": show} {
		if strings.ContainsAny(out, "\x1b\x07\x08\r\x00\u202e\u202c\u2066\u2069") {
			t.Errorf("request %s prints control or bidi characters: %q", name, out)
		}
		if !strings.Contains(out, "<script>alert(1)</script>") {
			t.Errorf("request %s does not show the markup as plain text:\n%s", name, out)
		}
	}
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 2 {
		t.Errorf("table has %d lines, want header and one row:\n%s", len(lines), table)
	}
}
