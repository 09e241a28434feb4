package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// TestFileLimit runs assistd as a child process under prlimit with 128 open files, fills it
// with connections, and checks what issue 11 promised: the gateway never stops; a technician
// and an agent already connected are still served while new connections are refused; and new
// ones are accepted again once the load drops. With the default cap the gateway refuses past
// its cap; with a --max-connections above what the limit holds, accept itself fails (too many
// open files) and the gateway backs off and goes on instead of exiting.
func TestFileLimit(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	for _, tc := range []struct {
		name  string
		args  []string
		log   string // the line that says new connections are refused
		limit string // max_connections in the startup log
	}{
		{"cap", nil, `connection limit reached`, "64"},
		{"accept-fails", []string{"--max-connections", "1000"}, `accept failed; retrying.*too many open files`, "1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := startChild(t, prlimit, tc.args...)
			waitLine(t, gw.logs, `open-file limit"? soft=128 hard=128 max_connections=`+tc.limit)

			tech := gw.technician(t)
			if out := techRun(t, tech, "request", "list", "--json"); !strings.Contains(out, "[") {
				t.Fatalf("request list: %q", out)
			}
			code := gw.agent(t)

			// Fill the gateway with authenticated connections until a new one is refused.
			var fill []net.Conn
			t.Cleanup(func() { closeAll(fill) })
			for i := 0; ; i++ {
				if i > 200 {
					t.Fatal("200 connections and none refused")
				}
				c, err := gw.dialAgentUser(t)
				if err != nil {
					break
				}
				fill = append(fill, c)
			}
			waitLine(t, gw.logs, tc.log)
			t.Logf("refused after %d filler connections", len(fill))

			// Known technician and agent: still served.
			var list []struct {
				Code   string `json:"code"`
				Online bool   `json:"online"`
			}
			if err := json.Unmarshal([]byte(techRun(t, tech, "request", "list", "--json")), &list); err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Code != code || !list[0].Online {
				t.Fatalf("during the flood the request list is %+v, want %s online", list, code)
			}

			// Load drops: a new technician connection gets in again.
			closeAll(fill)
			fill = nil
			testenv.WaitFor(t, 20*time.Second, "a new connection accepted after the load dropped", func() bool {
				c, err := gw.dialAgentUser(t)
				if err == nil {
					c.Close()
				}
				return err == nil
			})
			second := gw.technician(t)
			if out := techRun(t, second, "request", "show", code); !strings.Contains(out, code) {
				t.Fatalf("request show after recovery: %q", out)
			}
			if gw.exited() {
				t.Fatalf("assistd exited:\n%s", gw.logs)
			}
		})
	}
}

type child struct {
	addr    string
	hostKey ssh.PublicKey
	keyFile string // alice's key
	logs    *testenv.SyncBuffer
	done    chan struct{}
}

// startChild initialises a data directory with admin alice and runs "assistd serve" in it
// under prlimit --nofile=64:128.
func startChild(t *testing.T, prlimit string, args ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(bin, "assistd")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	store, err := dataDir(dir).create()
	if err != nil {
		t.Fatal(err)
	}
	signer, keyFile := testenv.NewKeyFile(t, t.TempDir(), "alice")
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	if err := store.AddUser(tickets.User{Name: "alice", Admin: true, Keys: []string{line}}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	hk, err := dataDir(dir).hostKey()
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"--nofile=64:128", filepath.Join(bin, "assistd"), "serve", "--data", dir, "--ssh", "127.0.0.1:0", "--http", ""}, args...)
	cmd := exec.Command(prlimit, argv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{hostKey: hk.PublicKey(), keyFile: keyFile, logs: &testenv.SyncBuffer{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(c.done)
		rx := regexp.MustCompile(`gateway listening"? ssh=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.logs.Write(append(sc.Bytes(), '\n'))
			if m := rx.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-c.done
	})
	select {
	case c.addr = <-addr:
	case <-c.done:
		t.Fatalf("assistd exited:\n%s", c.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("assistd did not listen in 20s:\n%s", c.logs)
	}
	return c
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *child) technician(t *testing.T) *ssh.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	l := viewer.Login{Gateway: c.addr, User: "alice", Identity: c.keyFile,
		GatewayKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(c.hostKey)))}
	client, err := l.Dial(ctx)
	if err != nil {
		t.Fatalf("technician login: %v\n%s", err, c.logs)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// agent runs an agent that files a request and stays connected; it returns the code.
func (c *child) agent(t *testing.T) string {
	t.Helper()
	filed := make(chan string, 1)
	a, err := agent.New(agent.Config{
		Gateway: c.addr, HostKeys: []ssh.PublicKey{c.hostKey}, Key: testenv.NewKey(t), Consent: testenv.FixedConsent(0),
		Form:   tickets.Form{FullName: "Pat Person", UserName: "pat", Computer: "pat-laptop"},
		Logger: slog.New(slog.DiscardHandler),
		Events: func(e agent.Event) {
			if e.Kind == agent.EventFiled {
				select {
				case filed <- e.Code:
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case code := <-filed:
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("agent did not file:\n%s", c.logs)
	}
	return ""
}

// dialAgentUser opens an authenticated connection that files nothing, as an agent would
// before its request; an error means the gateway did not take it.
func (c *child) dialAgentUser(t *testing.T) (net.Conn, error) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", c.addr, 3*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(3 * time.Second))
	_, chans, reqs, err := ssh.NewClientConn(nc, c.addr, &ssh.ClientConfig{
		User: protocol.AgentUser, Auth: []ssh.AuthMethod{ssh.PublicKeys(testenv.NewKey(t))},
		HostKeyCallback: ssh.FixedHostKey(c.hostKey),
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)
	go func() {
		for ch := range chans {
			ch.Reject(ssh.Prohibited, "")
		}
	}()
	return nc, nil
}

func techRun(t *testing.T, c *ssh.Client, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	status, err := viewer.Run(ctx, c, args, nil, &out, &errb)
	if err != nil || status != 0 {
		t.Fatalf("%v: status %d, %v: %s", args, status, err, errb.String())
	}
	return out.String()
}

func waitLine(t *testing.T, logs *testenv.SyncBuffer, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	testenv.WaitFor(t, 10*time.Second, "log line "+re+" in:\n"+logs.String(), func() bool { return rx.MatchString(logs.String()) })
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		c.Close()
	}
}
