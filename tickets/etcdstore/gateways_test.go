package etcdstore

import (
	"errors"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// TestGatewaysRegisterUnderTheirLeases: each gateway's registration is read by the others
// under its own name whatever name it gave; a gateway that dies drops out of the list with
// its lease; the holder of a claimed credential's session is read from the cluster.
func TestGatewaysRegisterUnderTheirLeases(t *testing.T) {
	prefix := newPrefix(t)
	a := openAt(t, prefix, "gw-a", true, nil)
	b := openAt(t, prefix, "gw-b", false, nil)
	if err := a.RegisterGateway(tickets.Gateway{Name: "someone-else", Address: "127.0.0.1:2222", HostKeys: []string{"ssh-ed25519 AAAA a"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.RegisterGateway(tickets.Gateway{Address: "127.0.0.1:2223"}); err != nil {
		t.Fatal(err)
	}
	g, err := b.RegisteredGateway("gw-a")
	if err != nil || g.Name != "gw-a" || g.Address != "127.0.0.1:2222" || len(g.HostKeys) != 1 {
		t.Fatalf("gw-a as gw-b reads it: %+v, %v", g, err)
	}
	if _, err := b.RegisteredGateway("someone-else"); !errors.Is(err, tickets.ErrNotFound) {
		t.Fatalf("a name no gateway holds: %v, want not found", err)
	}
	for _, bad := range []string{"", "gw-a/../gw-b", "../x"} {
		if _, err := b.RegisteredGateway(bad); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("name %q: %v, want not found", bad, err)
		}
	}
	all, err := a.Gateways()
	if err != nil || len(all) != 2 || all[0].Name != "gw-a" || all[1].Name != "gw-b" {
		t.Fatalf("gateways: %+v, %v", all, err)
	}

	abandon(a)
	waitUntil(t, 5*time.Second, "the dead gateway to drop out", func() bool {
		_, err := b.RegisteredGateway("gw-a")
		return errors.Is(err, tickets.ErrNotFound)
	})
	if all, err := b.Gateways(); err != nil || len(all) != 1 || all[0].Name != "gw-b" {
		t.Fatalf("gateways after gw-a died: %+v, %v", all, err)
	}
}

// TestSessionGatewayNamesTheClaimer: the gateway that claimed a credential holds its session
// until the session ends; fingerprints are base64 and may hold "/" and "+".
func TestSessionGatewayNamesTheClaimer(t *testing.T) {
	prefix := newPrefix(t)
	a := openAt(t, prefix, "gw-a", true, nil)
	b := openAt(t, prefix, "gw-b", false, nil)
	filed, err := a.FileRequest(tickets.Filing{Form: tickets.Form{FullName: "Pat"}, AgentKey: "SHA256:agent"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddUser(tickets.User{Name: "alice", Role: tickets.RoleTechnician}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := a.IssueCredential(tickets.Issuing{CodeOrID: filed.Request.Code, Technician: "alice", Fingerprint: "SHA256:cr/ed+", Issued: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if who, err := a.SessionGateway("SHA256:cr/ed+"); err != nil || who != "" {
		t.Fatalf("before the claim: %q, %v", who, err)
	}
	if _, err := b.ClaimCredential("SHA256:cr/ed+", now); err != nil {
		t.Fatal(err)
	}
	if who, err := a.SessionGateway("SHA256:cr/ed+"); err != nil || who != "gw-b" {
		t.Fatalf("after gw-b claimed: %q, %v", who, err)
	}
	if _, err := b.EndSession(tickets.SessionEnd{Fingerprint: "SHA256:cr/ed+", Cause: "done", State: tickets.CredentialSpent}); err != nil {
		t.Fatal(err)
	}
	if who, err := a.SessionGateway("SHA256:cr/ed+"); err != nil || who != "" {
		t.Fatalf("after the end: %q, %v", who, err)
	}
}
