package etcdstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/assistkit/assist/tickets"
)

// TestClockBehindCannotStartAnExpiredCredential: gateway B's clock is an hour behind. A
// credential gateway A issued for two seconds is refused at B once the cluster counted those two
// seconds out, although B's clock says it has an hour to go; one still valid starts at B.
func TestClockBehindCannotStartAnExpiredCredential(t *testing.T) {
	prefix := newPrefix(t)
	a := openAt(t, prefix, "gw-a", true, nil)
	behind := func() time.Time { return time.Now().Add(-time.Hour) }
	b := openAt(t, prefix, "gw-b", false, behind)
	short, long := issueAt(t, a, 2*time.Second), issueAt(t, a, time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gone := a.cli.Watch(ctx, a.k(pfxCredLive+short), clientv3.WithRev(1), clientv3.WithFilterPut())
	select {
	case <-gone:
	case <-ctx.Done():
		t.Fatal("the cluster did not count the credential's two seconds out within 10s")
	}
	if _, err := b.ClaimCredential(short, behind()); err == nil || !strings.Contains(err.Error(), "credential expired") {
		t.Fatalf("an expired credential at a gateway whose clock is behind: %v, want refused as expired", err)
	}
	if _, err := b.ClaimCredential(long, behind()); err != nil {
		t.Fatalf("a valid credential at the gateway whose clock is behind: %v", err)
	}
}

// issueAt files a request at s and issues a credential valid for d on s's clock; it returns the
// credential's fingerprint.
func issueAt(t *testing.T, s *Store, d time.Duration) string {
	t.Helper()
	if err := s.AddUser(tickets.User{Name: "alice"}); err != nil && !errors.Is(err, tickets.ErrExists) {
		t.Fatal(err)
	}
	fp := "SHA256:" + d.String()
	filed, err := s.FileRequest(tickets.Filing{Form: tickets.Form{FullName: "Pat"}, AgentKey: "SHA256:agent-" + fp})
	if err != nil {
		t.Fatal(err)
	}
	now := s.now()
	if _, err := s.IssueCredential(tickets.Issuing{CodeOrID: filed.Request.Code, Technician: "alice", Fingerprint: fp, Issued: now, Expires: now.Add(d)}); err != nil {
		t.Fatal(err)
	}
	return fp
}

// TestCountValidityMigration: a credential issued before the cluster counted validity (no
// may_start/ key, schema 1) still starts a session after the store migrates to version 2.
func TestCountValidityMigration(t *testing.T) {
	prefix := newPrefix(t)
	a := openAt(t, prefix, "gw-a", true, nil)
	fp := issueAt(t, a, time.Hour)
	ctx := context.Background()
	if _, err := a.cli.Delete(ctx, a.k(pfxCredLive+fp)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.cli.Put(ctx, a.k(keySchemaVersion), "1"); err != nil {
		t.Fatal(err)
	}
	b := openAt(t, prefix, "gw-b", false, nil)
	if _, err := b.ClaimCredential(fp, time.Now()); err != nil {
		t.Fatalf("a credential issued before version 2, after the migration: %v", err)
	}
	if v, err := b.cli.Get(ctx, b.k(keySchemaVersion)); err != nil || string(v.Kvs[0].Value) != version(schemaVersion()) {
		t.Fatalf("schema after the migration: %v %v", v, err)
	}
}
