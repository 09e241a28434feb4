package sshd_test

import (
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

// requestKeys are the keys issue 2 promises in request list/show --json, no more, no fewer,
// whether the agent can share its screen (issue 13) and who claimed it (issue 17; "notes" too,
// in request show, once there are some).
var requestKeys = []string{"code", "id", "full_name", "user_name", "computer", "email", "phone",
	"message", "local_ip", "screen", "created", "remote_addr", "state", "online", "owner"}

// checkRequestJSON checks one request object as printed by the gateway: every key, every value.
func checkRequestJSON(t *testing.T, where string, obj map[string]any, want map[string]any, before, after time.Time) {
	t.Helper()
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wantKeys := slices.Sorted(slices.Values(requestKeys))
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("%s: keys %v, want %v", where, keys, wantKeys)
	}
	for k, v := range want {
		if !reflect.DeepEqual(obj[k], v) {
			t.Errorf("%s: %s = %#v, want %#v", where, k, obj[k], v)
		}
	}
	created, _ := obj["created"].(string)
	ts, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		t.Errorf("%s: created %q is not RFC 3339: %v", where, created, err)
	} else if ts.Before(before.Add(-time.Second)) || ts.After(after.Add(time.Second)) {
		t.Errorf("%s: created %s, want between %s and %s", where, ts, before, after)
	}
	remote, _ := obj["remote_addr"].(string)
	host, port, err := net.SplitHostPort(remote)
	if n, _ := strconv.Atoi(port); err != nil || host != "127.0.0.1" || n == 0 {
		t.Errorf("%s: remote_addr %q, want 127.0.0.1:PORT", where, remote)
	}
}

func decodeList(t *testing.T, where, out string) []map[string]any {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%s: not a JSON array: %v\n%s", where, err, out)
	}
	return list
}

// TestRequestFieldsOurClientAndOpenSSH files a request with a real agent and reads it back with
// our client and with OpenSSH's ssh, as JSON (every key) and as the table.
func TestRequestFieldsOurClientAndOpenSSH(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	before := time.Now()
	form := tickets.Form{FullName: "Zoë Okonkwo-Ríos", UserName: "zoe", Computer: "ZOE-PC.corp.example", Email: "zoe@example.org",
		Phone: "+44 (20) 7946-0000", Message: "Outlook won't start:\n\"profile corrupt\"\ttab"}
	a := g.StartAgent(t, testenv.AgentOptions{Form: form})
	after := time.Now()

	stored, err := g.Store.Request(a.Code())
	if err != nil {
		t.Fatalf("the agent's request is not in the store: %v", err)
	}
	filed := waitEvent(t, g, "request.filed", nil)
	if stored.RemoteAddr != filed.Remote {
		t.Errorf("stored remote_addr %q, but the agent connected from %q", stored.RemoteAddr, filed.Remote)
	}
	want := map[string]any{
		"code": a.Code(), "id": stored.ID, "full_name": form.FullName, "user_name": form.UserName,
		"computer": form.Computer, "email": form.Email, "phone": form.Phone, "message": form.Message,
		"local_ip": "127.0.0.1", "screen": form.Screen, "remote_addr": filed.Remote, "state": "waiting", "online": true, "owner": "",
	}

	ours, errs, status := g.Exec(t, alice, "request", "list", "--json")
	if status != 0 {
		t.Fatalf("request list --json: status %d: %s", status, errs)
	}
	list := decodeList(t, "request list --json", ours)
	if len(list) != 1 {
		t.Fatalf("request list --json: %d requests, want 1:\n%s", len(list), ours)
	}
	checkRequestJSON(t, "request list --json", list[0], want, before, after)

	theirs, errs, status := openSSH(t, g, alice, "request", "list", "--json")
	if status != 0 {
		t.Fatalf("ssh … request list --json: exit %d: %s", status, errs)
	}
	olist := decodeList(t, "ssh … request list --json", theirs)
	if len(olist) != 1 {
		t.Fatalf("ssh … request list --json: %d requests, want 1:\n%s", len(olist), theirs)
	}
	checkRequestJSON(t, "ssh … request list --json", olist[0], want, before, after)
	if !reflect.DeepEqual(list, olist) {
		t.Errorf("OpenSSH saw %v, our client %v", olist, list)
	}

	show, errs, status := openSSH(t, g, alice, "request show "+strings.ToLower(a.Code())+" --json")
	if status != 0 {
		t.Fatalf("ssh … request show --json: exit %d: %s", status, errs)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(show), &obj); err != nil {
		t.Fatalf("request show --json is not one JSON object: %v\n%s", err, show)
	}
	checkRequestJSON(t, "request show --json", obj, want, before, after)

	table, _, status := openSSH(t, g, alice, "request", "list")
	if status != 0 {
		t.Fatalf("ssh … request list: exit %d", status)
	}
	for _, col := range []string{"CODE", "FULL NAME", "USER NAME", "COMPUTER", "EMAIL", "PHONE", "DATE CREATED", "LOCAL IP", "STATE", "OWNER",
		a.Code(), form.FullName, form.UserName, form.Computer, form.Email, form.Phone, "127.0.0.1", "waiting, online",
		stored.Created.Local().Format("2006-01-02 15:04")} {
		if !strings.Contains(table, col) {
			t.Errorf("request list table lacks %q:\n%s", col, table)
		}
	}
	detail, _, _ := g.Exec(t, alice, "request", "show", a.Code())
	for _, row := range []string{"Full Name:", "User Name:", "Computer:", "Email:", "Phone:", "Message:", "Date Created:", "Local IP Address:",
		form.FullName, "Outlook won't start:", `"profile corrupt"`, form.Email} {
		if !strings.Contains(detail, row) {
			t.Errorf("request show lacks %q:\n%s", row, detail)
		}
	}
}

// TestRequestCloseAndAll closes a request: the agent hears it and stops, the request leaves the
// open list and shows under --all as closed and offline; closing again and unknown codes fail.
func TestRequestCloseAndAll(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{})
	b := g.StartAgent(t, testenv.AgentOptions{Form: tickets.Form{FullName: "Bo Other", Message: "second"}})

	out, errs, status := g.Exec(t, alice, "request", "close", a.Code())
	if status != 0 || !strings.Contains(out, "closed "+a.Code()+" (Pat Person)") {
		t.Fatalf("request close: status %d, out %q, err %q", status, out, errs)
	}
	if err := a.Wait(t, 5*time.Second); !errors.Is(err, agent.ErrRequestClosed) {
		t.Fatalf("agent Run returned %v, want ErrRequestClosed", err)
	}
	open := listJSON(t, g, alice)
	if len(open) != 1 || open[0].Code != b.Code() {
		t.Fatalf("request list after close = %+v, want only %s", open, b.Code())
	}
	out, _, _ = g.Exec(t, alice, "request", "list", "--all", "--json")
	var all []sshd.RequestView
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Code != b.Code() || all[1].Code != a.Code() {
		t.Fatalf("request list --all = %+v, want %s then %s (newest first)", all, b.Code(), a.Code())
	}
	if all[1].State != "closed" || all[1].Online {
		t.Errorf("closed request shows state %q online %v, want closed and offline", all[1].State, all[1].Online)
	}
	if v := showJSON(t, g, alice, a.Code()); v.State != "closed" {
		t.Errorf("request show after close: state %q", v.State)
	}
	waitEvent(t, g, "request.closed", nil)

	_, errs, status = g.Exec(t, alice, "request", "close", a.Code())
	if status != 1 || !strings.Contains(errs, "already closed") {
		t.Errorf("closing twice: status %d, stderr %q; want 1 and 'already closed'", status, errs)
	}
	_, errs, status = g.Exec(t, alice, "request", "show", "ZZZZ-ZZZZ")
	if status != 1 || !strings.Contains(errs, "request list shows open requests") {
		t.Errorf("show unknown code: status %d, stderr %q; want 1 and a hint", status, errs)
	}
	_, errs, status = g.Exec(t, alice, "request", "list", "--bogus")
	if status != 2 {
		t.Errorf("unknown flag: status %d (%q), want 2", status, errs)
	}
}

// TestRestartKeepsRequestAndAgentResumes restarts the gateway under a live agent: the request is
// in the bbolt file still, and the agent reconnects and resumes the same code.
func TestRestartKeepsRequestAndAgentResumes(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{})
	code := a.Code()

	g2 := g.Restart(t)
	dis := a.WaitEvent(t, agent.EventDisconnected, 10*time.Second)
	if dis.Code != code {
		t.Errorf("disconnect event names %q, want %s", dis.Code, code)
	}
	e := a.WaitEvent(t, agent.EventFiled, 15*time.Second)
	if !e.Resumed || e.Code != code {
		t.Fatalf("after restart the agent filed %+v, want resumed %s", e, code)
	}
	views := listJSON(t, g2, alice)
	if len(views) != 1 || views[0].Code != code || !views[0].Online {
		t.Fatalf("after restart: %+v, want %s online", views, code)
	}
	waitEvent(t, g2, "request.resumed", nil)
	if n := len(events(t, g2, "request.filed")); n != 1 {
		t.Errorf("%d request.filed events, want 1 (the resume must not file anew)", n)
	}
	if err := g2.Store.VerifyEvents(); err != nil {
		t.Errorf("audit chain across the restart: %v", err)
	}
}

// TestRequestListPages: --all lists closed requests too, a page at a time, and the end of a
// page names the --after that continues it; --since selects by creation time.
func TestRequestListPages(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	var codes []string
	for i := range 5 {
		r, err := g.Store.(*tickets.Bolt).CreateRequest(tickets.Request{Form: tickets.Form{FullName: "Person " + strconv.Itoa(i)}})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Code)
		if i%2 == 0 {
			if _, err := g.Server.CloseRequest(r.Code, "alice"); err != nil {
				t.Fatal(err)
			}
		}
	}
	page := func(args ...string) ([]string, string) {
		t.Helper()
		out, errs, status := g.Exec(t, alice, append([]string{"request", "list", "--json"}, args...)...)
		var views []sshd.RequestView
		if status != 0 || json.Unmarshal([]byte(out), &views) != nil {
			t.Fatalf("request list %v: status %d, %q, %q", args, status, out, errs)
		}
		var got []string
		for _, v := range views {
			got = append(got, v.Code)
		}
		return got, errs
	}
	if got, _ := page(); !slices.Equal(got, []string{codes[3], codes[1]}) {
		t.Errorf("open requests %v, want %v", got, []string{codes[3], codes[1]})
	}
	got, errs := page("--all", "--limit", "3")
	if !slices.Equal(got, []string{codes[4], codes[3], codes[2]}) {
		t.Errorf("first page %v", got)
	}
	more, ok := strings.CutPrefix(strings.TrimSpace(errs), "more: add --after ")
	if !ok {
		t.Fatalf("first page's stderr %q names no next page", errs)
	}
	more, _, _ = strings.Cut(more, " ")
	got, errs = page("--all", "--limit", "3", "--after", more)
	if !slices.Equal(got, []string{codes[1], codes[0]}) || errs != "" {
		t.Errorf("second page %v, stderr %q; want %v and no more", got, errs, []string{codes[1], codes[0]})
	}
	if got, _ := page("--since", "1h"); len(got) != 5 {
		t.Errorf("--since 1h: %v, want all five", got)
	}
	if got, _ := page("--since", "2020-01-01T00:00:00Z", "--limit", "1"); len(got) != 1 {
		t.Errorf("--since with --limit 1: %v", got)
	}
}
