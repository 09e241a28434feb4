package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

// The gateway and the agent run as child processes of the bench (this binary re-run with
// -role), so that each one's peak memory is its own. A child prints one "ready …" line on
// standard output and runs until its standard input closes.

const benchTechnician = "bench"

// runGatewayRole serves a gateway with a fresh store in dir and one technician whose key is
// techKey; it prints "ready ADDR HOSTKEYLINE".
func runGatewayRole(dir, techKey string) error {
	auditKey := make([]byte, 32)
	rand.Read(auditKey)
	store, err := tickets.OpenBolt(filepath.Join(dir, "assist.db"), tickets.BoltOptions{AuditKey: auditKey})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.AddUser(tickets.User{Name: benchTechnician, FullName: "Bench Technician", Keys: []string{techKey}}); err != nil {
		return fmt.Errorf("add technician: %w", err)
	}
	hostKey, err := newSigner()
	if err != nil {
		return err
	}
	srv, err := sshd.New(sshd.Config{Store: store, HostKeys: []ssh.Signer{hostKey},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(l)
	fmt.Printf("ready %s %s\n", l.Addr(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostKey.PublicKey()))))
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// fullConsent is a person who allows everything at once.
type fullConsent struct{}

func (fullConsent) Ask(context.Context, tickets.ConsentAsk) (tickets.Grant, error) {
	return tickets.GrantFilesRead | tickets.GrantFilesWrite, nil
}

// runAgentRole files a request at the gateway and serves files; it prints "ready CODE".
func runAgentRole(gateway, hostKeyLine string) error {
	hk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hostKeyLine))
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	key, err := newSigner()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	filed := make(chan string, 1)
	a, err := agent.New(agent.Config{
		Gateway: gateway, HostKeys: []ssh.PublicKey{hk}, Key: key, Consent: fullConsent{}, Logger: log,
		Form:   tickets.Form{FullName: "Bench Person", UserName: "bench", Computer: "bench", Email: "bench@example.org", Phone: "+1 555 0100", Message: "file benchmark"},
		Routes: map[string]agent.Route{"session": agent.FilesRoute(log)},
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
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	go func() {
		select {
		case code := <-filed:
			fmt.Printf("ready %s\n", code)
		case <-ctx.Done():
		}
	}()
	err = a.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func newSigner() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

// child is a running role process.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready []string // the words after "ready"
}

// startChild re-runs this binary in a role and waits for its ready line.
func startChild(ctx context.Context, name string, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		words := strings.Fields(l)
		if !ok || len(words) < 2 || words[0] != "ready" {
			c.stop()
			return nil, fmt.Errorf("%s did not start (said %q)", name, l)
		}
		c.ready = words[1:]
		return c, nil
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s not ready in 30s", name)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// stop closes the child's input and waits; a child that hangs is killed.
func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}
