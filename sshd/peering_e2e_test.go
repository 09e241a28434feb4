package sshd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/etcdtest"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/tickets/etcdstore"
	"github.com/assistkit/assist/viewer"
)

// The package's etcd cluster, three real members, started by the first test that needs one and
// stopped by TestMain.
var (
	etcdOnce    sync.Once
	etcdDir     string
	etcdCluster *etcdtest.Cluster
	etcdErr     error
	etcdPrefix  atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if etcdCluster != nil {
		etcdCluster.Close()
		os.RemoveAll(etcdDir)
	}
	os.Exit(code)
}

// startCluster starts n gateways, gw1 … gwN, on one store prefix of the package's etcd cluster:
// with hostKey, all with that one (as assistd's copied data directories have), else each with
// a key of its own.
func startCluster(t *testing.T, n int, hostKey ssh.Signer) []*testenv.Gateway {
	t.Helper()
	etcdOnce.Do(func() {
		if etcdDir, etcdErr = os.MkdirTemp("", "sshd-etcd-"); etcdErr == nil {
			etcdCluster, etcdErr = etcdtest.Start(etcdDir, 3)
		}
	})
	if etcdErr != nil {
		t.Fatal(etcdErr)
	}
	prefix := fmt.Sprintf("/sshd-test-%d-%d/", os.Getpid(), etcdPrefix.Add(1))
	auditKey := bytes.Repeat([]byte{7}, 32)
	gws := make([]*testenv.Gateway, n)
	for i := range gws {
		store, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: etcdCluster.Endpoints, Prefix: prefix,
			AuditKey: auditKey, Init: i == 0, Gateway: fmt.Sprintf("gw%d", i+1)})
		if err != nil {
			t.Fatalf("open the cluster's store as gw%d: %v", i+1, err)
		}
		gws[i] = testenv.StartGateway(t, testenv.Options{Store: store, AuditKey: auditKey, HostKey: hostKey})
	}
	return gws
}

// waitOnlineAt waits until g sees the agent of code online (held by another gateway).
func waitOnlineAt(t *testing.T, g *testenv.Gateway, code string) tickets.Request {
	t.Helper()
	r, err := g.Store.Request(code)
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "the agent online at the technician's gateway", func() bool { return g.Server.Online(r.ID) })
	return r
}

// TestPeeredSessionDesktopInputFiles: an .otc minted on gateway 2 opens the desktop of an agent
// connected to gateway 3 — the snapshot is pixel-exact against the agent's X server, typing
// reaches the person's xterm, OpenSSH's sftp through assist ssh-config moves files both ways —
// and the audit says which gateways carried the session.
func TestPeeredSessionDesktopInputFiles(t *testing.T) {
	display := xvfb.ForTest(t, "-screen", "0", "1024x768x24")
	typed := filepath.Join(t.TempDir(), "typed.txt")
	xterm := exec.Command("xterm", "-display", display, "-geometry", "80x24+100+100", "-e", "sh", "-c", "ls -la /; cat > "+typed)
	if err := xterm.Start(); err != nil {
		t.Fatalf("xterm (scripts/deps.sh installs it): %v", err)
	}
	t.Cleanup(func() { xterm.Process.Kill(); xterm.Wait() })
	testenv.WaitFor(t, 10*time.Second, "xterm to start cat", func() bool { _, err := os.Stat(typed); return err == nil })

	log := slog.New(slog.DiscardHandler)
	d, closer, err := agent.OpenDesktop(display, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	routes := agent.DesktopRoutes(d, log)
	routes["session"] = agent.FilesRoute(log)

	gws := startCluster(t, 3, nil)
	techGW, agentGW := gws[1], gws[2]
	alice := techGW.AddTechnician(t, "alice", false)
	a := agentGW.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView | protocol.GrantControl | protocol.GrantFilesRead | protocol.GrantFilesWrite, Routes: routes})
	waitOnlineAt(t, techGW, a.Code())
	o := techGW.IssueOTC(t, alice, a.Code())
	if len(o.Gateways) == 0 || o.Gateways[0] != techGW.Addr {
		t.Fatalf("the .otc names %v, want gateway 2 (%s) first", o.Gateways, techGW.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	got, want := testenv.StillSnapshot(t, s, display)
	if n := testenv.DifferingPixels(got, want); n != 0 {
		t.Fatalf("%d pixels differ between the snapshot through two gateways and the X server's own screenshot", n)
	}

	in, err := s.Input()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	// X keyboard focus follows the pointer (no window manager): into the xterm, then type.
	if err := in.Pointer(300, 200, 0); err != nil {
		t.Fatal(err)
	}
	if err := in.Type("typed through gateway 2 and 3"); err != nil {
		t.Fatal(err)
	}
	const xkReturn = 0xff0d
	if err := errors.Join(in.Key(xkReturn, true), in.Key(xkReturn, false)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 15*time.Second, "the typed line in the person's xterm", func() bool {
		b, _ := os.ReadFile(typed)
		return string(b) == "typed through gateway 2 and 3\n"
	})

	// OpenSSH's sftp beside the viewer, with what assist ssh-config writes for the same .otc.
	d2 := &filesDesk{g: techGW, otc: o}
	if d2.cfg, err = viewer.WriteSSHConfig(t.TempDir(), o); err != nil {
		t.Fatal(err)
	}
	local, remote := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(local, "note.txt"), []byte("from the technician\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, err := d2.sftpBatch(t,
		"put "+filepath.Join(local, "note.txt")+" "+remote+"/note.txt",
		"get "+remote+"/note.txt "+filepath.Join(local, "back.txt"),
	)
	if err != nil {
		t.Fatalf("sftp through two gateways: %v\nstdout %s\nstderr %s", err, out, errs)
	}
	for _, p := range []string{filepath.Join(remote, "note.txt"), filepath.Join(local, "back.txt")} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "from the technician\n" {
			t.Fatalf("%s: %q, %v", p, b, err)
		}
	}

	// The audit: the credential was used on gateway 2, each channel opened there names gateway 3
	// as the agent's, gateway 3 relayed it for gateway 2, and the SFTP operations are audited
	// where the session lives.
	waitEvent(t, techGW, "credential.used", map[string]string{"gateway": "gw2"})
	waitEvent(t, techGW, "consent.asked", map[string]string{"gateway": "gw2", "agent_gateway": "gw3"})
	for _, typ := range []string{protocol.FramebufferChannel, protocol.InputChannel, "sftp"} {
		waitEvent(t, techGW, "channel.opened", map[string]string{"type": typ, "gateway": "gw2", "agent_gateway": "gw3"})
	}
	for _, typ := range []string{protocol.SessionChannel, protocol.FramebufferChannel, protocol.InputChannel, "session"} {
		waitEvent(t, agentGW, "relay.opened", map[string]string{"type": typ, "from_gateway": "gw2", "gateway": "gw3"})
	}
	waitEvent(t, techGW, "sftp.close", map[string]string{"path": remote + "/note.txt", "written": "20"})
	if err := techGW.Store.VerifyEvents(); err != nil {
		t.Fatalf("the cluster's audit chain: %v", err)
	}
}

// TestCredentialOnTwoGatewaysAtOnce: one .otc tried on two gateways of the cluster at the same
// moment starts one session: one login is accepted, the other refused, and the trail has one
// credential.used.
func TestCredentialOnTwoGatewaysAtOnce(t *testing.T) {
	gws := startCluster(t, 3, nil)
	alice := gws[0].AddTechnician(t, "alice", false)
	a := gws[2].StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView})
	o := gws[0].IssueOTC(t, alice, a.Code())
	signer, err := o.Signer()
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, g := range gws[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = dialAs(t, g, protocol.OTCUser(o.Request), ssh.PublicKeys(signer))
		}()
	}
	close(start)
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("logins on gateway 1 and 2: %v and %v; want exactly one accepted", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil {
			refusedAuth(t, err, "the second login with the credential")
		}
	}
	if used := events(t, gws[0], "credential.used"); len(used) != 1 {
		t.Fatalf("%d credential.used events, want 1: %+v", len(used), used)
	}
	// The loser said why in its log; the credential goes on refusing the third gateway.
	refused := gws[0]
	if errs[1] != nil {
		refused = gws[1]
	}
	waitLog(t, refused.Logs, `reason="credential already used"`)
	_, err = dialAs(t, gws[2], protocol.OTCUser(o.Request), ssh.PublicKeys(signer))
	refusedAuth(t, err, "the credential on gateway 3")
}

// TestPeeringRefusesAllButRegisteredGateways: the gateway-to-gateway login is refused, logged
// in OpenSSH's words and audited for any key that is not a host key the named gateway
// registered — a technician's key, a fresh key, another gateway's key — and for a name no live
// gateway holds; a registered gateway's own key logs in, and even it gets no relay for a session
// it does not hold.
func TestPeeringRefusesAllButRegisteredGateways(t *testing.T) {
	gws := startCluster(t, 3, nil)
	alice := gws[0].AddTechnician(t, "alice", false)
	target := gws[2]
	cases := []struct {
		name, user string
		key        ssh.Signer
		reason     string
	}{
		{"a fresh key", "assist-gateway-gw1", testenv.NewKey(t), "key is not a host key of gateway gw1"},
		{"a technician's key", "assist-gateway-gw1", alice.Signer, "key is not a host key of gateway gw1"},
		{"another gateway's key", "assist-gateway-gw1", gws[1].HostKey, "key is not a host key of gateway gw1"},
		{"no such gateway", "assist-gateway-gw9", gws[0].HostKey, "not a registered gateway"},
		{"its own name", "assist-gateway-gw3", target.HostKey, "not a registered gateway"},
	}
	for _, c := range cases {
		_, err := dialAs(t, target, c.user, ssh.PublicKeys(c.key))
		refusedAuth(t, err, c.name)
		e := waitEvent(t, target, "auth.failed", map[string]string{"user": c.user, "key": ssh.FingerprintSHA256(c.key.PublicKey())})
		if !strings.Contains(e.Attrs["reason"], c.reason) {
			t.Errorf("%s: audited reason %q, want %q", c.name, e.Attrs["reason"], c.reason)
		}
		waitLog(t, target.AuthLog, `Failed publickey for (invalid user )?`+c.user+` from 127\.0\.0\.1 port \d+ ssh2`)
	}

	// gw1's own host key logs in as gw1, but a relay for a credential whose session gw1 does not
	// hold is refused and audited.
	a := target.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView})
	o := gws[0].IssueOTC(t, alice, a.Code())
	r := waitOnlineAt(t, gws[0], a.Code())
	c := mustDial(t, target, "assist-gateway-gw1", gws[0].HostKey)
	fp := ssh.FingerprintSHA256(mustSigner(t, o).PublicKey())
	_, _, err := c.OpenChannel("relay@gateway.assist.dev", ssh.Marshal(struct {
		Fingerprint, RequestID, Type string
		Data                         []byte
	}{fp, r.ID, protocol.SessionChannel, nil}))
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited || !strings.Contains(oce.Message, "not live") {
		t.Fatalf("relay for an unused credential: %v, want refused as not live", err)
	}
	waitEvent(t, target, "refused", map[string]string{"what": "relay " + protocol.SessionChannel, "fingerprint": fp})
	_, _, err = c.OpenChannel("session", nil)
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
		t.Fatalf("a session channel from a gateway: %v, want refused", err)
	}
}

func mustSigner(t *testing.T, o *tickets.OTC) ssh.Signer {
	t.Helper()
	s, err := o.Signer()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPeeredSessionFollowsTheAgentToAnotherGateway: the technician's session is on gateway 2,
// the agent on gateway 3; gateway 3 stops, the agent comes back on gateway 1 with the same
// request, and the session resumes through gateway 1 — the viewer's screen channel reaches the
// agent again, the person is not asked again.
func TestPeeredSessionFollowsTheAgentToAnotherGateway(t *testing.T) {
	gws := startCluster(t, 3, testenv.NewKey(t))
	d := &desk{g: gws[1], served: make(chan string, 16), consent: &testenv.RecordingConsent{Grant: protocol.GrantView | protocol.GrantControl}}
	d.alice = d.g.AddTechnician(t, "alice", false)
	d.agent = gws[2].StartAgent(t, testenv.AgentOptions{Consent: d.consent, Routes: d.routes(), Alternates: []string{gws[0].Addr}})
	code := d.agent.Code()
	waitOnlineAt(t, d.g, code)
	o := d.g.IssueOTC(t, d.alice, code)
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	fb := openEcho(t, s, protocol.FramebufferChannel)
	<-d.served

	gws[2].Stop()
	waitClosed(t, fb, "the screen channel")
	opened := make(chan error, 1)
	go func() {
		ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
		if err == nil {
			go ssh.DiscardRequests(reqs)
			got := make([]byte, 5)
			if _, err = ch.Write([]byte("again")); err == nil {
				_, err = io.ReadFull(ch, got)
			}
			if err == nil && string(got) != "again" {
				err = errors.New("echo " + string(got))
			}
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("screen after the agent moved to gateway 1: %v", viewer.ChannelError(protocol.FramebufferChannel, err))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the screen channel did not reach the agent on gateway 1")
	}
	if d.agent.Code() != code {
		t.Fatalf("the agent's code on gateway 1 is %s, want %s", d.agent.Code(), code)
	}
	waitEvent(t, d.g, "session.resumed", nil)
	waitEvent(t, gws[0], "relay.opened", map[string]string{"type": protocol.ResumeChannel, "from_gateway": "gw2", "gateway": "gw1"})
	waitEvent(t, d.g, "channel.opened", map[string]string{"type": protocol.FramebufferChannel, "agent_gateway": "gw1"})
	if asks := d.consent.Asks(); len(asks) != 1 {
		t.Errorf("the person was asked %d times, want once", len(asks))
	}
}
