//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/etcdtest"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/tickets/etcdstore"
	"github.com/assistkit/assist/viewer"
)

// gateway is assistd serve running as a child process on a data directory the bench made.
type gateway struct {
	dir, addr, hostKeyLine string
	hostKey                ssh.PublicKey
	login                  viewer.Login
	cmd                    *exec.Cmd
	done                   chan struct{}
	fileLimit              uint64
	maxConns               int
	note                   string
	log                    io.Writer         // -gateway-log, or nil
	limitLines             atomic.Int64      // "connection limit reached" lines
	etcd                   *etcdtest.Cluster // -store etcd: the cluster the gateway serves
	etcdStore              string            // its --store
}

// startEtcd starts a 3-member etcd (etcd's own server, embedded in this process, its members'
// data under root), initialises the store on it and seeds it as seed does the bbolt file.
func (g *gateway) startEtcd(ctx context.Context, o options, root, keyFile string) error {
	c, err := etcdtest.Start(filepath.Join(root, "etcd"), 3)
	if err != nil {
		return err
	}
	g.etcd = c
	g.etcdStore = "etcd://" + strings.Join(c.Endpoints, ",")
	if out, err := exec.CommandContext(ctx, o.assistd, "init", "--store", g.etcdStore, "--data", g.dir, "--admin", "bench", "--admin-key", keyFile+".pub").CombinedOutput(); err != nil {
		return fmt.Errorf("assistd init --store: %w\n%s", err, out)
	}
	key, err := os.ReadFile(filepath.Join(g.dir, "audit.key"))
	if err != nil {
		return err
	}
	s, err := etcdstore.Open(ctx, etcdstore.Options{Endpoints: c.Endpoints, AuditKey: key, Gateway: "seed", Timeout: time.Minute})
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	if err := s.SeedClosed(o.stored-o.filers, seedForm); err != nil {
		return err
	}
	fmt.Printf("seeded %d closed requests in %s\n", o.stored-o.filers, time.Since(start).Round(time.Millisecond))
	return nil
}

func startGateway(ctx context.Context, o options) (*gateway, error) {
	root, err := os.MkdirTemp(o.dir, "scalebench-")
	if err != nil {
		return nil, err
	}
	g := &gateway{dir: filepath.Join(root, "data"), done: make(chan struct{})}
	signer, keyPEM, err := tickets.NewKey("scalebench")
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(root, "bench")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		return nil, err
	}
	args := []string{"serve", "--data", g.dir, "--ssh", "127.0.0.1:0", "--http", ""}
	if o.store == "etcd" {
		if err := g.startEtcd(ctx, o, root, keyFile); err != nil {
			return nil, err
		}
		args = append(args, "--store", g.etcdStore, "--gateway-name", "bench")
	} else {
		if out, err := exec.CommandContext(ctx, o.assistd, "init", "--data", g.dir, "--admin", "bench", "--admin-key", keyFile+".pub").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("assistd init: %w\n%s", err, out)
		}
		if err := seed(g.dir, o.stored-o.filers); err != nil {
			return nil, err
		}
	}
	if err := g.readHostKey(); err != nil {
		return nil, err
	}
	g.login = viewer.Login{Gateway: "", User: "bench", Identity: keyFile, GatewayKey: g.hostKeyLine}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return nil, err
	}
	g.fileLimit = rl.Max
	g.maxConns = sshd.ConnectionsFor(rl.Max)
	if need := o.agents + o.dropAgents + 16; g.maxConns < need {
		g.maxConns = min(need, int(rl.Max)-64)
		g.note = fmt.Sprintf("the hard open-file limit here is %d, whose default cap is %d connections; the gateway runs with --max-connections %d",
			rl.Max, sshd.ConnectionsFor(rl.Max), g.maxConns)
		args = append(args, "--max-connections", strconv.Itoa(g.maxConns))
	}
	g.cmd = exec.Command(o.assistd, args...)
	if o.gatewayLog != "" {
		f, err := os.OpenFile(o.gatewayLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		g.log = f // closed with the process: the bench exits after it
	}
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go g.readLog(stderr, addr)
	select {
	case g.addr = <-addr:
	case <-g.done:
		return nil, errors.New("assistd serve exited before listening")
	case <-time.After(30 * time.Second):
		g.stop()
		return nil, errors.New("assistd serve did not listen in 30s")
	}
	g.login.Gateway = g.addr
	return g, nil
}

// readLog drains the gateway's log, picking out its address and the lines the bench reports.
func (g *gateway) readLog(r io.Reader, addr chan<- string) {
	defer close(g.done)
	rx := regexp.MustCompile(`gateway listening"? ssh=(\S+)`)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if g.log != nil {
			fmt.Fprintf(g.log, "%s\n", line)
		}
		if m := rx.FindSubmatch(line); m != nil {
			addr <- string(m[1])
		}
		if bytes.Contains(line, []byte("connection limit reached")) {
			g.limitLines.Add(1)
		}
		if bytes.Contains(line, []byte("level=ERROR")) {
			fmt.Fprintf(os.Stderr, "assistd: %s\n", line)
		}
	}
	g.cmd.Wait()
}

func (g *gateway) readHostKey() error {
	pem, err := os.ReadFile(filepath.Join(g.dir, "ssh_host_ed25519_key"))
	if err != nil {
		return err
	}
	s, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return fmt.Errorf("gateway host key: %w", err)
	}
	g.hostKey = s.PublicKey()
	g.hostKeyLine = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(g.hostKey)))
	return nil
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

// stop ends assistd with SIGTERM (as systemd would) and removes its data.
func (g *gateway) stop() {
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
	if g.etcd != nil {
		g.etcd.Close()
	}
	os.RemoveAll(filepath.Dir(g.dir))
}

// seedForm is the form of the requests stored before the bench.
var seedForm = tickets.Form{FullName: "Seeded Person", UserName: "seed", Computer: "seed-pc", Email: "seed@example.org", Message: "a request stored before the bench"}

// seed stores n closed requests before the gateway starts, without an fsync per write.
func seed(dir string, n int) error {
	if n <= 0 {
		return nil
	}
	key, err := os.ReadFile(filepath.Join(dir, "audit.key"))
	if err != nil {
		return err
	}
	store, err := tickets.OpenBolt(filepath.Join(dir, "assist.db"), tickets.BoltOptions{AuditKey: key, MustExist: true, NoSync: true})
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		r, err := store.CreateRequest(tickets.Request{Form: seedForm, RemoteAddr: "127.0.0.1:1"})
		if err != nil {
			store.Close()
			return fmt.Errorf("seed: %w", err)
		}
		if _, err := store.UpdateRequest(r.ID, func(r *tickets.Request) error {
			r.State, r.Closed, r.ClosedBy = tickets.StateClosed, time.Now().UTC(), "scalebench"
			return nil
		}); err != nil {
			store.Close()
			return fmt.Errorf("seed: %w", err)
		}
	}
	fmt.Printf("seeded %d closed requests in %s\n", n, time.Since(start).Round(time.Millisecond))
	return store.Close()
}
