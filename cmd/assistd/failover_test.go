package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/tickets/etcdstore"
	"github.com/assistkit/assist/viewer"
)

// cluster is n assistd processes serving one etcd store, with copies of one data directory.
type cluster struct {
	store   string
	dirs    []dataDir
	addrs   []string
	procs   []*exec.Cmd
	hostKey ssh.PublicKey
	tech    ssh.Signer
}

// startCluster initialises the store on the package's etcd cluster with admin alice and starts
// n gateways on it, gw-1 … gw-n, each its own process.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	c := initCluster(t, etcdStore(t), n)
	for i, d := range c.dirs {
		cmd, addr := startServe(t, d, "127.0.0.1:0", "--store", c.store, "--gateway-name", fmt.Sprintf("gw-%d", i+1))
		c.addrs, c.procs = append(c.addrs, addr), append(c.procs, cmd)
	}
	return c
}

// initCluster initialises store with admin alice and makes n data directories for its
// gateways, copies of the first.
func initCluster(t *testing.T, store string, n int) *cluster {
	t.Helper()
	c := &cluster{store: store}
	root := t.TempDir()
	tech, keyFile := testenv.NewKeyFile(t, root, "alice")
	c.tech = tech
	first := dataDir(filepath.Join(root, "gw-1"))
	o := initOptions{storeOptions: storeOptions{store: c.store}, data: string(first), admin: "alice", adminKey: keyFile + ".pub"}
	if err := runInit(context.Background(), o, nil, &bytes.Buffer{}); err != nil {
		t.Fatalf("init: %v", err)
	}
	hk, err := first.hostKey()
	if err != nil {
		t.Fatal(err)
	}
	c.hostKey = hk.PublicKey()
	for i := range n {
		d := dataDir(filepath.Join(root, fmt.Sprintf("gw-%d", i+1)))
		if i > 0 {
			copyDir(t, string(first), string(d))
		}
		c.dirs = append(c.dirs, d)
	}
	return c
}

// serveInProcess runs the cluster's gateways in this process (runServe), for tests that stop
// etcd under them rather than kill them.
func (c *cluster) serveInProcess(t *testing.T) []*served {
	t.Helper()
	var out []*served
	for i, d := range c.dirs {
		g := serve(t, serveOptions{storeOptions: storeOptions{store: c.store, gateway: fmt.Sprintf("gw-%d", i+1)},
			data: string(d), sshAddr: "127.0.0.1:0", logFormat: "text"})
		c.addrs = append(c.addrs, g.ssh.String())
		out = append(out, g)
	}
	return out
}

// open opens the cluster's store as the tests read it.
func (c *cluster) open(t *testing.T) *etcdstore.Store {
	t.Helper()
	key, err := c.dirs[0].auditKey()
	if err != nil {
		t.Fatal(err)
	}
	target, err := parseStoreURL(c.store)
	if err != nil {
		t.Fatal(err)
	}
	s, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: target.endpoints, Prefix: target.prefix, AuditKey: key, Gateway: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkStored fails the test for every code the store does not hold, and unless assistd check
// passes on the cluster.
func (c *cluster) checkStored(t *testing.T, codes []string) {
	t.Helper()
	s := c.open(t)
	for _, code := range codes {
		if _, err := s.Request(code); err != nil {
			t.Errorf("acknowledged filing %s: %v", code, err)
		}
	}
	var out bytes.Buffer
	last := len(c.dirs) - 1
	if err := runCheckCluster(context.Background(), storeOptions{store: c.store, gateway: fmt.Sprintf("gw-%d", last+1)}, c.dirs[last], &out); err != nil {
		t.Fatalf("assistd check on the cluster: %v (%s)\n%s", err, hinted(err), out.String())
	}
}

// startAgent runs a real agent on the cluster: addrs[0] first, then the others in turn.
func (c *cluster) startAgent(t *testing.T, name string, addrs ...string) chan agent.Event {
	t.Helper()
	return c.runAgent(t, agent.Config{Gateway: addrs[0], Alternates: addrs[1:],
		Form: tickets.Form{FullName: name, Computer: name + "-pc"}, Consent: testenv.FixedConsent(0)})
}

// runAgent runs a real agent with cfg, the cluster's host key and a new key of its own, until
// the test ends, and returns what it tells the person.
func (c *cluster) runAgent(t *testing.T, cfg agent.Config) chan agent.Event {
	t.Helper()
	events := make(chan agent.Event, 64)
	logs := &testenv.SyncBuffer{}
	cfg.HostKeys, cfg.Key = []ssh.PublicKey{c.hostKey}, testenv.NewKey(t)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cfg.Events = func(e agent.Event) {
		select {
		case events <- e:
		default:
		}
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("agent %s:\n%s", cfg.Form.FullName, logs)
		}
	})
	return events
}

// filed waits for the agent's next filing, skipping the other events.
func filed(t *testing.T, events chan agent.Event, within time.Duration) agent.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-events:
			if e.Kind == agent.EventFiled {
				return e
			}
		case <-deadline:
			t.Fatalf("the agent did not file within %s", within)
		}
	}
}

// online asks the gateway client is logged in to, as a technician would (request show --json),
// whether code's agent is online.
func (c *cluster) online(t *testing.T, client *ssh.Client, code string) bool {
	t.Helper()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Output("request show --json " + code)
	if err != nil {
		t.Fatalf("request show %s: %v\n%s", code, err, out)
	}
	var v struct{ Online bool }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("request show --json: %v\n%s", err, out)
	}
	return v.Online
}

func (c *cluster) technician(t *testing.T, i int) *ssh.Client {
	t.Helper()
	client, err := ssh.Dial("tcp", c.addrs[i], &ssh.ClientConfig{User: "alice", Auth: []ssh.AuthMethod{ssh.PublicKeys(c.tech)},
		HostKeyCallback: ssh.FixedHostKey(c.hostKey), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("ssh alice@%s: %v", c.addrs[i], err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// waitOnline polls gateway i's answer for code until it is want (the gateways learn of another
// one's agents from a watch, and of a dead one's from its lease running out: there is no event
// a technician could wait for), and returns how long that took from since.
func (c *cluster) waitOnline(t *testing.T, client *ssh.Client, code string, want bool, since time.Time, within time.Duration) time.Duration {
	t.Helper()
	for c.online(t, client, code) != want {
		if time.Since(since) > within {
			t.Fatalf("%s: online is not %v within %s", code, want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(since)
}

// TestKilledGatewaysAgentResumesElsewhere: three assistd processes on one 3-member etcd; an agent
// on gateway 1 that knows all three, another that knows only gateway 1, and agents filing
// through gateway 1 all along. kill -9 of gateway 1: the first agent is online on another
// gateway within 5 s with the same code; the second shows offline at both others within the
// default lease TTL (and 5 s); every filing gateway 1 acknowledged is in the store; and
// assistd check passes on the cluster.
func TestKilledGatewaysAgentResumesElsewhere(t *testing.T) {
	c := startCluster(t, 3)
	moverEvents := c.startAgent(t, "Mover", c.addrs...)
	mover := filed(t, moverEvents, 30*time.Second)
	stayerEvents := c.startAgent(t, "Stayer", c.addrs[0])
	stayer := filed(t, stayerEvents, 30*time.Second)

	l := startLoad(t, 8, c.hostKey, c.addrs[0])
	l.wait(t, 30)

	g2, g3 := c.technician(t, 1), c.technician(t, 2)
	for _, g := range []*ssh.Client{g2, g3} {
		c.waitOnline(t, g, stayer.Code, true, time.Now(), 10*time.Second)
	}

	// An .otc minted on gateway 1 lists every gateway, gateway 1 first.
	otcText := techExec(t, c.addrs[0], c.hostKey, c.tech, "alice", "request otc "+mover.Code)
	o, err := tickets.ParseOTC([]byte(otcText))
	if err != nil {
		t.Fatalf("request otc: %v\n%s", err, otcText)
	}
	if !slices.Equal(o.Gateways, c.addrs) {
		t.Errorf("the .otc minted on gateway 1 lists %v, want every gateway, its own first: %v", o.Gateways, c.addrs)
	}

	killed := time.Now()
	if err := c.procs[0].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.procs[0].Wait()
	codes, _ := l.end() // its filers have nowhere to go

	back := filed(t, moverEvents, 10*time.Second)
	moved := time.Since(killed)
	if back.Code != mover.Code || !back.Resumed {
		t.Fatalf("the agent came back with %s (resumed %v), want its request %s resumed", back.Code, back.Resumed, mover.Code)
	}
	if moved > 5*time.Second {
		t.Errorf("the agent was online on another gateway %s after its gateway was killed, want within 5s", moved)
	}
	// assist connect goes on from the dead gateway to the next one the file lists.
	sess, err := viewer.DialOTC(context.Background(), o)
	if err != nil {
		t.Fatalf("assist connect with the file of the killed gateway: %v", err)
	}
	sess.Close()
	offline := []time.Duration{
		c.waitOnline(t, g2, stayer.Code, false, killed, 10*time.Second),
		c.waitOnline(t, g3, stayer.Code, false, killed, 10*time.Second),
	}
	for _, g := range []*ssh.Client{g2, g3} {
		if !c.online(t, g, mover.Code) {
			t.Errorf("the agent that moved is not online at every gateway left")
		}
	}
	for _, d := range offline {
		if d > 5*time.Second {
			t.Errorf("the killed gateway's agent showed offline %s after, want within 5s", d)
		}
	}
	t.Logf("agent resumed %s on another gateway %s after kill -9; the killed gateway's agent offline at the others after %s and %s (lease TTL 3s); %d filings acknowledged",
		back.Code, moved.Round(time.Millisecond), offline[0].Round(time.Millisecond), offline[1].Round(time.Millisecond), len(codes))

	c.checkStored(t, codes)
	c.checkStatus(t, map[string]int{"gw-1": -1, "gw-2": 1, "gw-3": 0}) // the agent moved to the next of its gateways
}

// checkStatus runs assistd cluster status --json and fails the test unless every member is
// healthy and each gateway named holds that many agents (-1: the gateway is not listed).
func (c *cluster) checkStatus(t *testing.T, agents map[string]int) {
	t.Helper()
	var out bytes.Buffer
	if err := runClusterStatus(context.Background(), clusterStatusOptions{storeOptions: storeOptions{store: c.store}, data: string(c.dirs[0]), asJSON: true}, &out); err != nil {
		t.Fatalf("assistd cluster status: %v\n%s", err, out.String())
	}
	var st etcdstore.ClusterStatus
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("cluster status --json: %v\n%s", err, out.String())
	}
	listed := map[string]int{}
	for _, g := range st.Gateways {
		listed[g.Name] = g.Agents
	}
	for name, n := range agents {
		if got, ok := listed[name]; (n < 0 && ok) || (n >= 0 && got != n) {
			t.Errorf("cluster status: gateway %s holds %d agents (listed %v), want %d\n%s", name, got, ok, n, out.String())
		}
	}
	if len(st.Members) != 3 {
		t.Errorf("cluster status: %d etcd members, want 3\n%s", len(st.Members), out.String())
	}
}

// load is agents filing new requests through gateways, in turn, until it ends.
type load struct {
	mu     sync.Mutex
	acked  []string // codes the gateways answered with
	failed int      // filings that got no code
	stop   chan struct{}
	wg     sync.WaitGroup
}

// startLoad starts n agents filing through addrs; an agent whose filing fails files again.
func startLoad(t *testing.T, n int, hostKey ssh.PublicKey, addrs ...string) *load {
	l := &load{stop: make(chan struct{})}
	for i := range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for j := i; ; j++ {
				select {
				case <-l.stop:
					return
				default:
				}
				rr, err := newFiler(i).file(addrs[j%len(addrs)], hostKey)
				l.mu.Lock()
				if err != nil {
					l.failed++
				} else {
					l.acked = append(l.acked, rr.Code)
				}
				l.mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() { l.end() })
	return l
}

// wait waits until the gateways acknowledged n filings in all.
func (l *load) wait(t *testing.T, n int) {
	t.Helper()
	waitCount(t, &l.mu, func() int { return len(l.acked) }, n)
}

// end stops the agents and returns what was acknowledged and how many filings failed.
func (l *load) end() ([]string, int) {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...), l.failed
}
