package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/etcdtest"
	"github.com/assistkit/assist/tickets"
)

// TestUnreachable: a cluster that answers nothing is refused at Open, saying so, within the
// timeout.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = Open(context.Background(), Options{Endpoints: []string{addr}, AuditKey: testAuditKey, Timeout: time.Second})
	if !errors.Is(err, tickets.ErrUnavailable) {
		t.Fatalf("Open on a dead address: %v, want ErrUnavailable", err)
	}
}

// TestUninitialised: a cluster without the store is refused without Init, and Init twice is
// refused the second time.
func TestUninitialised(t *testing.T) {
	prefix := newPrefix(t)
	_, err := Open(context.Background(), Options{Endpoints: cluster.Endpoints, Prefix: prefix, AuditKey: testAuditKey})
	var se *tickets.SchemaError
	if !errors.As(err, &se) || se.Version != 0 {
		t.Fatalf("Open of an empty prefix: %v, want a SchemaError", err)
	}
	openAt(t, prefix, "a", true, nil)
	if _, err := Open(context.Background(), Options{Endpoints: cluster.Endpoints, Prefix: prefix, AuditKey: testAuditKey, Init: true}); !errors.Is(err, tickets.ErrExists) {
		t.Fatalf("second init: %v, want ErrExists", err)
	}
}

// TestFilingsSurviveAMemberStopping: a member of three stops during filings; every filing that
// was acknowledged is stored, and filings go on through the other two.
func TestFilingsSurviveAMemberStopping(t *testing.T) {
	c, err := etcdtest.Start(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := Open(context.Background(), Options{Endpoints: c.Endpoints, AuditKey: testAuditKey, Init: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var acked []tickets.Request
	failed := 0
	for i := range 60 {
		if i == 20 {
			c.Stop(0)
		}
		f, err := s.FileRequest(tickets.Filing{Form: tickets.Form{FullName: fmt.Sprint("p", i)}, AgentKey: fmt.Sprint("SHA256:", i)})
		if err != nil {
			failed++ // not acknowledged: the agent files again
			continue
		}
		acked = append(acked, f.Request)
	}
	if len(acked) < 50 {
		t.Fatalf("%d of 60 filings acknowledged (%d failed) with two members of three up", len(acked), failed)
	}
	for _, r := range acked {
		if got, err := s.Request(r.Code); err != nil || got.ID != r.ID {
			t.Errorf("acknowledged filing %s: %v", r.Code, err)
		}
	}
	if err := s.VerifyEvents(); err != nil {
		t.Error(err)
	}
}
