package etcdstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// TestCheck: a store that gateways used is found intact; a record written past the store (a
// damaged value, an index pointing nowhere, an event removed) is named where it is.
func TestCheck(t *testing.T) {
	prefix := newPrefix(t)
	s := openAt(t, prefix, "gw-a", true, nil)
	if err := s.AddUser(tickets.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	filed, err := s.FileRequest(tickets.Filing{Form: tickets.Form{FullName: "Pat"}, AgentKey: "SHA256:pat"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := s.IssueCredential(tickets.Issuing{CodeOrID: filed.Request.Code, Technician: "alice", Fingerprint: "SHA256:cred",
		Issued: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	other, err := s.FileRequest(tickets.Filing{Form: tickets.Form{FullName: "Sam"}, AgentKey: "SHA256:sam"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseRequest(tickets.Closing{CodeOrID: other.Request.Code, By: "alice"}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check()
	if err != nil || !rep.OK() {
		t.Fatalf("Check of an intact store: %+v, %v", rep, err)
	}
	if rep.Schema != schemaVersion() || rep.Requests != 2 || rep.Open != 1 || rep.Users != 1 || rep.Credentials != 1 || rep.Events == 0 {
		t.Errorf("Check counted %+v", rep)
	}

	ctx := context.Background()
	for k, v := range map[string]string{
		pfxRequests + filed.Request.ID: "not a record",
		pfxCodes + "ZZZZ-ZZZZ":         "no-such-request",
		pfxEvents + "0000000000000001": "",
	} {
		var err error
		if v == "" {
			_, err = s.cli.Delete(ctx, s.k(k))
		} else {
			_, err = s.cli.Put(ctx, s.k(k), v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err = s.Check()
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range rep.Problems {
		found = append(found, p.String())
	}
	all := strings.Join(found, "\n")
	for _, want := range []string{pfxRequests + filed.Request.ID + ": ", pfxCodes + "ZZZZ-ZZZZ: points at missing request", "audit event 1: missing"} {
		if !strings.Contains(all, want) {
			t.Errorf("Check does not report %q; it said:\n%s", want, all)
		}
	}
}

// TestStatus: cluster status counts each gateway's agents and sessions, names the address a
// registered one gave, and hears from every member, one of them the leader.
func TestStatus(t *testing.T) {
	prefix := newPrefix(t)
	a := openAt(t, prefix, "gw-a", true, nil)
	b := openAt(t, prefix, "gw-b", false, nil)
	if err := a.RegisterGateway(tickets.Gateway{Address: "127.0.0.1:2222"}); err != nil {
		t.Fatal(err)
	}
	for s, ids := range map[*Store][]string{a: {"r1"}, b: {"r2", "r3"}} {
		for _, id := range ids {
			if err := s.AgentOnline(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []GatewayStatus{{Name: "gw-a", Address: "127.0.0.1:2222", Agents: 1}, {Name: "gw-b", Agents: 2}}
	if len(st.Gateways) != 2 || st.Gateways[0] != want[0] || st.Gateways[1] != want[1] {
		t.Errorf("gateways %+v, want %+v", st.Gateways, want)
	}
	leaders := 0
	for _, m := range st.Members {
		if !m.Healthy || m.Version == "" || len(m.Endpoints) == 0 {
			t.Errorf("member %+v", m)
		}
		if m.Leader {
			leaders++
		}
	}
	if len(st.Members) != 3 || leaders != 1 {
		t.Errorf("%d members, %d leaders: %+v", len(st.Members), leaders, st.Members)
	}
}
