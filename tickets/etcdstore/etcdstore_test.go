package etcdstore

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/etcdtest"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/tickets/storetest"
)

// cluster is the package's one real etcd cluster, three members, started by TestMain; each test
// gets a prefix of its own in it.
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	if isFuzzWorker() {
		os.Exit(m.Run()) // the fuzz targets need no cluster
	}
	dir, err := os.MkdirTemp("", "etcdstore-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster, err = etcdtest.Start(dir, 3)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	cluster.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// isFuzzWorker reports whether this process runs fuzz inputs only (go test -fuzz's workers, and
// scripts/fuzz.sh's -run '^$' -fuzz runs).
func isFuzzWorker() bool {
	for _, a := range os.Args[1:] {
		if len(a) > 10 && a[:10] == "-test.fuzz" {
			return true
		}
	}
	return false
}

var testAuditKey = []byte("test audit key, 32 bytes long!!!")

var prefixes atomic.Int64

// newPrefix is a prefix no other test of this process uses.
func newPrefix(t *testing.T) string {
	return fmt.Sprintf("/test-%d-%d/", os.Getpid(), prefixes.Add(1))
}

// openAt opens the store at prefix as gateway gw, closed when the test ends.
func openAt(t *testing.T, prefix, gw string, init bool, now func() time.Time) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Endpoints: cluster.Endpoints, Prefix: prefix, AuditKey: testAuditKey,
		Init: init, Gateway: gw, Now: now, LeaseTTL: time.Second})
	if err != nil {
		t.Fatalf("open etcd store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStoreSuite runs the use cases every Store keeps against the etcd cluster; the second
// gateway is a second client of its own.
func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) (tickets.Store, func() tickets.Store) {
		prefix := newPrefix(t)
		first := openAt(t, prefix, "gw-a", true, now)
		n := 0
		return first, func() tickets.Store {
			n++
			return openAt(t, prefix, fmt.Sprintf("gw-%d", n), false, now)
		}
	})
}
