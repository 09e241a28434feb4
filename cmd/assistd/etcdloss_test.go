package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/etcdtest"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// privateCluster is a 3-member etcd of the test's own, for tests that kill its members.
func privateCluster(t *testing.T) (*etcdtest.Cluster, string) {
	t.Helper()
	ec, err := etcdtest.Start(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ec.Close)
	return ec, "etcd://" + strings.Join(ec.Endpoints, ",")
}

// TestFilingsSurviveAnEtcdMemberKilled: two gateways on a 3-member etcd, agents filing through
// both; the etcd leader is killed in the middle. Every filing a gateway acknowledged is in the
// store, filings go on through the two members left, and assistd check passes.
func TestFilingsSurviveAnEtcdMemberKilled(t *testing.T) {
	ec, store := privateCluster(t)
	c := initCluster(t, store, 2)
	c.serveInProcess(t)
	l := startLoad(t, 16, c.hostKey, c.addrs...)
	l.wait(t, 40)
	leader := ec.Leader()
	if leader < 0 {
		t.Fatal("no etcd leader")
	}
	killed := time.Now()
	ec.Kill(leader)
	l.mu.Lock()
	before := len(l.acked)
	l.mu.Unlock()
	l.wait(t, before+100)
	codes, failed := l.end()
	t.Logf("etcd leader m%d killed after %d filings; %d more acknowledged in %s, %d failed (not acknowledged)",
		leader, before, len(codes)-before, time.Since(killed).Round(time.Millisecond), failed)
	c.checkStored(t, codes)
}

// TestGatewayRidesOutEtcdLoss: with every etcd member gone, a session that is live goes on (its
// files are listed), a new filing and a technician's command fail saying the store is
// unavailable, and once etcd is back the gateway files and lists again by itself.
func TestGatewayRidesOutEtcdLoss(t *testing.T) {
	ec, store := privateCluster(t)
	c := initCluster(t, store, 1)
	gw := c.serveInProcess(t)[0]
	events := c.runAgent(t, agent.Config{Gateway: c.addrs[0], Form: tickets.Form{FullName: "Pat Person"},
		Consent: testenv.FixedConsent(protocol.GrantFilesRead), Routes: map[string]agent.Route{"session": agent.FilesRoute(slog.New(slog.DiscardHandler))}})
	code := filed(t, events, 30*time.Second).Code
	otcText := techExec(t, c.addrs[0], c.hostKey, c.tech, "alice", "request otc "+code)
	o, err := tickets.ParseOTC([]byte(otcText))
	if err != nil {
		t.Fatalf("request otc: %v\n%s", err, otcText)
	}
	sess, err := viewer.DialOTC(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	files, err := sess.Files()
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	if _, err := files.List(context.Background(), "."); err != nil {
		t.Fatalf("list the person's files: %v", err)
	}

	for i := range ec.Endpoints {
		ec.Kill(i)
	}
	lost := time.Now()
	if _, err := files.List(context.Background(), "."); err != nil {
		t.Errorf("the live session's files with etcd gone: %v", err)
	}
	t.Logf("the live session listed files %s after etcd was lost", time.Since(lost).Round(time.Millisecond))
	_, err = newFiler(1).file(c.addrs[0], c.hostKey)
	if err == nil || !strings.Contains(err.Error(), "store unavailable") {
		t.Errorf("a filing with etcd gone: %v, want refused as store unavailable", err)
	}
	out, status := techTry(t, c.addrs[0], c.hostKey, c.tech, "alice", "request list")
	if status == 0 || !strings.Contains(out, "store is unavailable") {
		t.Errorf("a technician's login with etcd gone: status %d\n%s\nwant it refused as store unavailable", status, out)
	}
	if strings.Contains(gw.logs.String(), "Invalid user alice") {
		t.Errorf("the gateway called alice an invalid user while it could not read the store:\n%s", gw.logs)
	}

	if err := ec.Restart(0, 1, 2); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for {
		if _, err := newFiler(2).file(c.addrs[0], c.hostKey); err == nil {
			break
		} else if time.Since(back) > 30*time.Second {
			t.Fatalf("the gateway does not file 30s after etcd came back: %v\n%s", err, gw.logs)
		}
		time.Sleep(100 * time.Millisecond) // etcd's client redials with backoff: nothing to wait on
	}
	t.Logf("filing again %s after etcd came back", time.Since(back).Round(time.Millisecond))
	if out := techExec(t, c.addrs[0], c.hostKey, c.tech, "alice", "request list"); !strings.Contains(out, code) {
		t.Errorf("request list after etcd came back does not show %s:\n%s", code, out)
	}
	if _, err := files.List(context.Background(), "."); err != nil {
		t.Errorf("the live session's files after etcd came back: %v", err)
	}
}

// techTry runs a technician's command and returns its output and exit status; when the gateway
// did not let the technician in, the banner it sent and the error, with status 255.
func techTry(t *testing.T, addr string, hostKey ssh.PublicKey, signer ssh.Signer, user, cmd string) (string, int) {
	t.Helper()
	var banner strings.Builder
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hostKey), Timeout: 30 * time.Second,
		BannerCallback: func(m string) error { banner.WriteString(m); return nil }})
	if err != nil {
		return banner.String() + err.Error(), 255
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return err.Error(), 255
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	if ee, ok := err.(*ssh.ExitError); ok {
		return string(out), ee.ExitStatus()
	}
	if err != nil {
		return string(out) + err.Error(), 255
	}
	return string(out), 0
}
