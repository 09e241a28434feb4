package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// countingWriter counts the writes that reach it: each would be an SSH packet (or more) on the
// technician's channel.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// noGateway is a gateway whose agents are all offline and which records what is audited.
type noGateway struct{ audited []tickets.Event }

func (noGateway) Online(string) bool { return false }
func (noGateway) CloseRequest(string, string) (tickets.Request, error) {
	return tickets.Request{}, fmt.Errorf("not here")
}
func (noGateway) IssueOTC(string, string, time.Duration, string) (*tickets.OTC, tickets.Credential, error) {
	return nil, tickets.Credential{}, fmt.Errorf("not here")
}
func (noGateway) CloseFrom(netip.Prefix, string) (int, error) { return 0, fmt.Errorf("not here") }
func (g *noGateway) Audit(e tickets.Event)                    { g.audited = append(g.audited, e) }
func (noGateway) WatchRequests(context.Context) <-chan tickets.RequestChange {
	return make(chan tickets.RequestChange)
}
func (noGateway) HandOver(tickets.Handover) (tickets.Handed, error) {
	return tickets.Handed{}, fmt.Errorf("not here")
}
func (noGateway) AddNote(tickets.Noting) (tickets.Noted, error) {
	return tickets.Noted{}, fmt.Errorf("not here")
}

// storeGateway hands over and notes in its store, as the gateway does.
type storeGateway struct {
	noGateway
	st tickets.Store
}

func (g *storeGateway) HandOver(h tickets.Handover) (tickets.Handed, error) { return g.st.HandOver(h) }
func (g *storeGateway) AddNote(n tickets.Noting) (tickets.Noted, error)     { return g.st.AddNote(n) }

func storeWith(t testing.TB, requests int) tickets.Store {
	t.Helper()
	st, err := tickets.OpenBolt(filepath.Join(t.TempDir(), "assist.db"), tickets.BoltOptions{AuditKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i := range requests {
		form := tickets.Form{FullName: fmt.Sprintf("Person %d", i), UserName: "pat", Computer: "pat-laptop",
			Email: "pat@example.org", Phone: "+1 555 0100", Message: "printer broken", LocalIP: "192.0.2.7"}
		if _, err := st.CreateRequest(tickets.Request{Form: form, RemoteAddr: "192.0.2.7:50000", AgentKey: fmt.Sprint("key", i)}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestOutputLeavesInFullBuffers: a long table reaches the channel in writes of a full SSH
// packet's worth, not one write per cell (tabwriter alone writes about 18 a row).
func TestOutputLeavesInFullBuffers(t *testing.T) {
	env := Env{Gateway: &noGateway{}, Store: storeWith(t, 300), Log: slog.New(slog.DiscardHandler), Now: time.Now}
	for _, line := range []string{"request list", "request list --json"} {
		var out, errs countingWriter
		status := Run(context.Background(), env, Caller{Name: "alice"}, line, strings.NewReader(""), &out, &errs)
		if status != 0 {
			t.Fatalf("%s: status %d: %s", line, status, errs.String())
		}
		if rows := strings.Count(out.String(), "Person "); rows != 300 {
			t.Fatalf("%s: %d requests in the output, want 300", line, rows)
		}
		most := (out.Len() + outputBuffer - 1) / outputBuffer
		if out.writes > most {
			t.Errorf("%s: %d bytes in %d writes, want at most %d (%d-byte buffers)", line, out.Len(), out.writes, most, outputBuffer)
		}
		if errs.writes != 0 {
			t.Errorf("%s: %d writes to stderr, want none", line, errs.writes)
		}
	}
}

// TestErrorsAreFlushedWithStatus: a refused command's message and hint reach stderr, in one
// write, and the exit status says what kind of failure it was.
func TestErrorsAreFlushedWithStatus(t *testing.T) {
	g := &noGateway{}
	env := Env{Gateway: g, Store: storeWith(t, 0), Log: slog.New(slog.DiscardHandler), Now: time.Now}
	for _, tc := range []struct {
		line   string
		status uint32
		want   string
	}{
		{"frobnicate", 2, "hint: run 'help'"},
		{"request show", 2, "accepts 1 arg"},
		{"'unterminated", 2, "unterminated quote"},
		{"user list", 1, "only admins may manage accounts (your role: technician)"},
		{"request show NOPE-NOPE", 1, "check the code"},
	} {
		var out, errs countingWriter
		status := Run(context.Background(), env, Caller{Name: "bob"}, tc.line, strings.NewReader(""), &out, &errs)
		if status != tc.status || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("%q: status %d, stderr %q; want %d and %q", tc.line, status, errs.String(), tc.status, tc.want)
		}
		if errs.writes != 1 {
			t.Errorf("%q: stderr in %d writes, want 1", tc.line, errs.writes)
		}
	}
	if len(g.audited) != 1 || g.audited[0].Kind != "refused" || g.audited[0].Actor != "bob" {
		t.Errorf("audited %+v, want one refusal by bob (user list)", g.audited)
	}
}

// TestClaimsAndNotes: claim, assign, release and note say what they did; a request another
// owns is refused naming the owner with the hand-over to ask for; a hostile note reads as text
// in request show; an unknown account is named as an account, not as a request code.
func TestClaimsAndNotes(t *testing.T) {
	st := storeWith(t, 1)
	for _, u := range []tickets.User{{Name: "alice"}, {Name: "bob"}, {Name: "root", Role: tickets.RoleAdmin}} {
		if err := st.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := st.Requests(tickets.RequestQuery{})
	code := page.Requests[0].Code
	env := Env{Gateway: &storeGateway{st: st}, Store: st, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	run := func(who, line, stdin string) (string, string, uint32) {
		var out, errs bytes.Buffer
		role := tickets.RoleTechnician
		if who == "root" {
			role = tickets.RoleAdmin
		}
		status := Run(context.Background(), env, Caller{Name: who, Role: role}, line, strings.NewReader(stdin), &out, &errs)
		return out.String(), errs.String(), status
	}
	for _, tc := range []struct {
		who, line, stdin string
		status           uint32
		out, errs        string
	}{
		{"alice", "request claim " + code, "", 0, "claimed " + code + " (Person 0)", ""},
		{"alice", "request claim " + code, "", 0, code + " (Person 0) is alice's already", ""},
		{"bob", "request claim " + code, "", 1, "", "assistd: request " + code + " is claimed by alice\nhint: ask alice or an admin to hand it over: request assign " + code + " bob\n"},
		{"bob", "request release " + code, "", 1, "", "is claimed by alice"},
		{"alice", "request list", "", 0, "OWNER", ""},
		{"alice", "request assign " + code + " nobody", "", 1, "", "user nobody: not found\nhint: check the name: user list"},
		{"alice", "request assign " + code + " bob", "", 0, "assigned " + code + " (Person 0) to bob", ""},
		{"root", "request release " + code, "", 0, "released " + code + " (Person 0): owned by nobody", ""},
		{"root", "request release " + code, "", 1, "", "is not claimed"},
		{"alice", "request note " + code + " called, \x1b[2J<b>no</b> answer", "", 0, "noted on " + code + " (Person 0)", ""},
		{"bob", "request note " + code + " -", "second\nline", 0, "noted on " + code, ""},
		{"bob", "request note " + code + " -", strings.Repeat("x", tickets.MaxNoteLen+1), 1, "", "at most 2000 allowed"},
		{"bob", "request note " + code, "", 2, "", "requires at least 2 arg"},
		{"root", "user passwd nobody", "correct horse battery staple\n", 1, "", "user nobody: not found\nhint: check the name: user list"},
	} {
		out, errs, status := run(tc.who, tc.line, tc.stdin)
		if status != tc.status || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.errs) {
			t.Errorf("%s: %q: status %d, stdout %q, stderr %q; want %d, %q, %q", tc.who, tc.line, status, out, errs, tc.status, tc.out, tc.errs)
		}
	}
	out, _, _ := run("bob", "request show "+code, "")
	for _, want := range []string{"Owner:             -\n", "Notes (2):\n", "  alice\n    called, [2J<b>no</b> answer\n", "  bob\n    second\n    line\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("request show: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("request show prints a terminal escape:\n%q", out)
	}
	out, _, _ = run("bob", "request show --json "+code, "")
	var v RequestView
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Notes) != 2 || v.Notes[0].By != "alice" || v.Owner != "" {
		t.Errorf("request show --json: %+v, %v", v, err)
	}
}
