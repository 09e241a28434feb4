package sshd_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

// dialAs logs in to g as user with the given auth methods, checking the gateway's host key; it
// returns the handshake's error for refusals.
func dialAs(t *testing.T, g *testenv.Gateway, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", g.Addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial gateway: %v", err)
	}
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	c, chans, reqs, err := ssh.NewClientConn(nc, g.Addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(g.HostKey.PublicKey()),
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	client := ssh.NewClient(c, chans, reqs)
	t.Cleanup(func() { client.Close() })
	return client, nil
}

// mustDial is dialAs for logins that must succeed.
func mustDial(t *testing.T, g *testenv.Gateway, user string, signer ssh.Signer) *ssh.Client {
	t.Helper()
	c, err := dialAs(t, g, user, ssh.PublicKeys(signer))
	if err != nil {
		t.Fatalf("log in as %s: %v", user, err)
	}
	return c
}

// refusedAuth asserts a handshake ended in an authentication failure, not something else.
func refusedAuth(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: login accepted, want refused", what)
	}
	if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("%s: login failed with %v, want an authentication refusal", what, err)
	}
}

// waitLog waits for a line matching re in buf (written by the gateway's goroutines).
func waitLog(t *testing.T, buf *testenv.SyncBuffer, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var m string
	testenv.WaitFor(t, 5*time.Second, fmt.Sprintf("log line %q in:\n%s", re, buf), func() bool {
		m = rx.FindString(buf.String())
		return m != ""
	})
	return m
}

// events returns the audit events whose kind starts with kind.
func events(t testing.TB, g *testenv.Gateway, kind string) []tickets.Event {
	t.Helper()
	evs, err := g.Store.Events(tickets.EventFilter{Kind: kind})
	if err != nil {
		t.Fatalf("audit events: %v", err)
	}
	return evs
}

// waitEvent waits for an audit event of kind whose attrs include want.
func waitEvent(t testing.TB, g *testenv.Gateway, kind string, want map[string]string) tickets.Event {
	t.Helper()
	var found tickets.Event
	testenv.WaitFor(t, 5*time.Second, fmt.Sprintf("audit event %s %v", kind, want), func() bool {
		for _, e := range events(t, g, kind) {
			if e.Kind == kind && attrsInclude(e.Attrs, want) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

func attrsInclude(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// waitRefused waits for the "refused" audit event and log lines naming what.
func waitRefused(t *testing.T, g *testenv.Gateway, user, what string) {
	t.Helper()
	waitEvent(t, g, "refused", map[string]string{"what": what})
	waitLog(t, g.AuthLog, `refused `+regexp.QuoteMeta(strings.ReplaceAll(what, " ", ":"))+` for user `+regexp.QuoteMeta(user)+` from 127\.0\.0\.1 port \d+`)
	waitLog(t, g.Logs, `msg=refused .*what="?`+regexp.QuoteMeta(what))
}

// wantFailed asserts that a session channel whose request typ (shell, exec or subsystem, with its
// payload) the gateway refuses ends at once with exit status 1 and a message on stderr containing
// msg: how the gateway refuses them, so that OpenSSH's clients show the message.
func wantFailed(t *testing.T, c *ssh.Client, typ string, payload []byte, msg string) {
	t.Helper()
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	defer ch.Close()
	status := make(chan uint32, 1)
	go func() {
		for r := range reqs {
			var m struct{ Status uint32 }
			if r.Type == "exit-status" && ssh.Unmarshal(r.Payload, &m) == nil {
				status <- m.Status
			}
		}
		close(status)
	}()
	if _, err := ch.SendRequest(typ, true, payload); err != nil {
		t.Fatalf("%s request: %v", typ, err)
	}
	stderr, err := io.ReadAll(ch.Stderr())
	if err != nil || !strings.Contains(string(stderr), msg) {
		t.Fatalf("%s: stderr %q, %v; want %q", typ, stderr, err, msg)
	}
	if st, ok := <-status; !ok || st != 1 {
		t.Fatalf("%s: exit status %d (sent: %v); want 1", typ, st, ok)
	}
}

// command is the payload of an exec or subsystem request.
func command(s string) []byte { return ssh.Marshal(struct{ S string }{s}) }

// showJSON runs request show CODE --json.
func showJSON(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, code string) sshd.RequestView {
	t.Helper()
	out, errs, status := g.Exec(t, tech, "request", "show", code, "--json")
	if status != 0 {
		t.Fatalf("request show %s: status %d: %s", code, status, errs)
	}
	var v sshd.RequestView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("request show --json: %v\n%s", err, out)
	}
	return v
}

// openSSH runs OpenSSH's ssh client as tech against g, pinning g's host key through a
// known_hosts file, and returns stdout, stderr and the exit code.
func openSSH(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, command ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := openSSHCommand(ctx, t, g, tech, command...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("run ssh: %v", err)
	}
	return out.String(), errb.String(), 0
}

// openSSHStream starts OpenSSH's ssh as tech running command and returns its stdout lines as
// they come, once the command has said something on stderr (a watch, that it watches). It is
// stopped with the test.
func openSSHStream(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, command ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := openSSHCommand(ctx, t, g, tech, command...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ssh: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	if line, err := bufio.NewReader(stderr).ReadString('\n'); err != nil {
		t.Fatalf("ssh %v said %q on stderr: %v", command, line, err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

func openSSHCommand(ctx context.Context, t *testing.T, g *testenv.Gateway, tech *testenv.Technician, command ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal("OpenSSH's ssh client is not installed: run scripts/deps.sh (apt-get install openssh-client)")
	}
	host, port, _ := net.SplitHostPort(g.Addr)
	known := filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[%s]:%s %s\n", host, port, g.HostKeyLine())
	if err := os.WriteFile(known, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-F", "/dev/null", "-p", port, "-i", tech.KeyFile,
		"-o", "UserKnownHostsFile=" + known, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		tech.Name + "@" + host}
	cmd := exec.CommandContext(ctx, bin, append(args, command...)...)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	return cmd
}
