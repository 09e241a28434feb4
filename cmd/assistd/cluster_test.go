package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/etcdtest"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// The package's etcd cluster, three real members, started by the first test that needs one
// (the scripts re-execute this binary as assistd, and those runs need none) and stopped when
// the tests end.
var (
	clusterOnce sync.Once
	clusterDir  string
	etcdCluster *etcdtest.Cluster
	clusterErr  error
	prefixSeq   int
	prefixMu    sync.Mutex
)

// closingCluster runs the tests, then stops the cluster if one was started.
type closingCluster struct{ m *testing.M }

func (c closingCluster) Run() int {
	code := c.m.Run()
	if etcdCluster != nil {
		etcdCluster.Close()
		os.RemoveAll(clusterDir)
	}
	return code
}

// etcdStore is an etcd:// --store on the package's cluster, with a prefix no other test uses.
func etcdStore(t *testing.T) string {
	t.Helper()
	clusterOnce.Do(func() {
		if clusterDir, clusterErr = os.MkdirTemp("", "assistd-etcd-"); clusterErr == nil {
			etcdCluster, clusterErr = etcdtest.Start(clusterDir, 3)
		}
	})
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	prefixMu.Lock()
	defer prefixMu.Unlock()
	prefixSeq++
	return fmt.Sprintf("etcd://%s/%s-%d", strings.Join(etcdCluster.Endpoints, ","), t.Name(), prefixSeq)
}

// TestTwoGatewaysShareOneCluster: assistd init makes the cluster's store once (a second init is
// refused with a hint and leaves nothing behind); two gateways serve it with copies of the
// first one's keys; a request filed through one is listed by the other, over SSH and on its web
// screen, where the account's password set once on the cluster signs alice in.
func TestTwoGatewaysShareOneCluster(t *testing.T) {
	store := etcdStore(t)
	root := t.TempDir()
	tech, keyFile := testenv.NewKeyFile(t, root, "alice")
	dirA, dirB := filepath.Join(root, "a"), filepath.Join(root, "b")
	var out bytes.Buffer
	o := initOptions{storeOptions: storeOptions{store: store}, data: dirA, admin: "alice", adminKey: keyFile + ".pub"}
	if err := runInit(context.Background(), o, nil, &out); err != nil {
		t.Fatalf("init: %v", err)
	}
	o.data = dirB
	err := runInit(context.Background(), o, nil, &out)
	if !errors.Is(err, tickets.ErrExists) || !strings.Contains(hinted(err), "copy") {
		t.Fatalf("second init: %v (hint %q), want refused as initialised", err, hinted(err))
	}
	if _, err := os.Stat(dirB); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused init left %s behind: %v", dirB, err)
	}
	copyDir(t, dirA, dirB)

	// alice's web password, set once on the cluster, serves at every gateway.
	so := storeOptions{store: store, gateway: "password-setter"}
	st, err := so.openEtcd(context.Background(), dataDir(dirA), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := tickets.HashPassword(webPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateUser("alice", func(u *tickets.User) error { u.PasswordHash = hash; return nil }); err != nil {
		t.Fatal(err)
	}
	st.Close()

	a := serve(t, serveOptions{storeOptions: storeOptions{store: store}, data: dirA, sshAddr: "127.0.0.1:0", logFormat: "text"})
	b := serve(t, serveOptions{storeOptions: storeOptions{store: store}, data: dirB, sshAddr: "127.0.0.1:0", httpAddr: "127.0.0.1:0", logFormat: "text"})
	hk, err := dataDir(dirA).hostKey()
	if err != nil {
		t.Fatal(err)
	}
	reply, err := newFiler(1).file(a.ssh.String(), hk.PublicKey())
	if err != nil {
		t.Fatalf("file through gateway A: %v", err)
	}
	list := techExec(t, b.ssh.String(), hk.PublicKey(), tech, "alice", "request list")
	if !strings.Contains(list, reply.Code) || !strings.Contains(list, "Load Tester") {
		t.Fatalf("gateway B's request list does not show %s filed through A:\n%s", reply.Code, list)
	}
	// And B's help-desk web screen, signed in with the cluster's account.
	base := "http://" + b.web.String()
	hc := &http.Client{}
	signIn(t, hc, base)
	res, err := hc.Get(base + "/requests")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(reply.Code)) || !bytes.Contains(page, []byte("Load Tester")) {
		t.Fatalf("gateway B's web list (%s) does not show %s filed through A:\n%s", res.Status, reply.Code, page)
	}
}

// TestServeRefusesAnUnreachableCluster: no etcd at --store is a clear refusal with a hint.
func TestServeRefusesAnUnreachableCluster(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := dataDir(dir).createKeys(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = runServe(context.Background(), serveOptions{storeOptions: storeOptions{store: "etcd://" + addr}, data: dir, sshAddr: "127.0.0.1:0", logFormat: "text"}, &bytes.Buffer{})
	if !errors.Is(err, tickets.ErrUnavailable) || !strings.Contains(hinted(err), "etcd runs at") {
		t.Fatalf("serve on an unreachable cluster: %v (hint %q)", err, hinted(err))
	}
	t.Logf("refused after %s: %v", time.Since(start).Round(time.Millisecond), err)
	for _, bad := range []string{"etcd://", "http://h:2379", "etcd://h", "etcd://h:2379,:1"} {
		if err := runServe(context.Background(), serveOptions{storeOptions: storeOptions{store: bad}, data: dir, logFormat: "text"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--store") {
			t.Errorf("--store %q: %v", bad, err)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue // recordings: each gateway keeps its own
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// techExec runs a technician's command on the gateway at addr over SSH exec and returns its
// output, failing the test unless it succeeds.
func techExec(t *testing.T, addr string, hostKey ssh.PublicKey, signer ssh.Signer, user, cmd string) string {
	t.Helper()
	out, status := techTry(t, addr, hostKey, signer, user, cmd)
	if status != 0 {
		t.Fatalf("%s on %s: status %d\n%s", cmd, addr, status, out)
	}
	return out
}
