// Package viewer is the technician's side: it runs commands on the gateway with the
// technician's own login, dials one-time sessions with an .otc file, drives the desktop protocol
// and moves files.
package viewer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/assistkit/assist/tickets"
)

// Login says how a technician reaches the gateway.
type Login struct {
	Gateway string // host:port
	User    string
	// Identity is a private key file; empty means the ssh-agent's keys, then ~/.ssh/id_ed25519.
	Identity string
	// GatewayKey is the pinned host key line or a file holding it; empty means KnownHosts.
	GatewayKey string
	// KnownHosts is an OpenSSH known_hosts file; empty means ~/.ssh/known_hosts.
	KnownHosts string
	Timeout    time.Duration
}

// Dial logs in to the gateway.
func (l Login) Dial(ctx context.Context) (*ssh.Client, error) {
	if l.Gateway == "" || l.User == "" {
		return nil, errors.New("no gateway or user: give --gateway HOST:PORT and --user NAME, set ASSIST_GATEWAY and ASSIST_USER, or run assist login")
	}
	auth, closeAuth, err := l.auth()
	if err != nil {
		return nil, err
	}
	defer closeAuth()
	hkcb, algos, err := l.hostKeyCallback()
	if err != nil {
		return nil, err
	}
	return dial(ctx, l.Gateway, &ssh.ClientConfig{
		User: l.User, Auth: auth, HostKeyCallback: hkcb, HostKeyAlgorithms: algos, Timeout: orDefault(l.Timeout, 15*time.Second),
	})
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// dial opens TCP with ctx and runs the SSH handshake.
func dial(ctx context.Context, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	c, chans, reqs, err := connect(ctx, addr, cfg)
	if err != nil {
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// loginError is a handshake or authentication that failed after the TCP connection was made.
type loginError struct {
	addr string
	err  error
}

func (e *loginError) Error() string { return fmt.Sprintf("log in to gateway %s: %v", e.addr, e.err) }
func (e *loginError) Unwrap() error { return e.err }

// connect opens TCP with ctx and runs the SSH handshake within cfg.Timeout; a failed handshake
// is a *loginError, or a *tickets.NotSSHError when something else than SSH answered.
func connect(ctx context.Context, addr string, cfg *ssh.ClientConfig) (ssh.Conn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("connect to gateway %s: %w", addr, err)
	}
	nc.SetDeadline(time.Now().Add(cfg.Timeout))
	c, chans, reqs, err := tickets.ClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		var ns *tickets.NotSSHError
		if errors.As(err, &ns) {
			return nil, nil, nil, ns
		}
		return nil, nil, nil, &loginError{addr, err}
	}
	nc.SetDeadline(time.Time{})
	return c, chans, reqs, nil
}

// auth prefers an explicit identity file, then the ssh-agent, then ~/.ssh/id_ed25519.
func (l Login) auth() ([]ssh.AuthMethod, func(), error) {
	if l.Identity != "" {
		s, err := readSigner(l.Identity)
		if err != nil {
			return nil, nil, err
		}
		return []ssh.AuthMethod{ssh.PublicKeys(s)}, func() {}, nil
	}
	var methods []ssh.AuthMethod
	closer := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if c, err := net.Dial("unix", sock); err == nil {
			methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(c).Signers))
			closer = func() { c.Close() }
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		if s, err := readSigner(filepath.Join(home, ".ssh", "id_ed25519")); err == nil {
			methods = append(methods, ssh.PublicKeys(s))
		}
	}
	if len(methods) == 0 {
		return nil, nil, errors.New("no SSH key: start ssh-agent with your key, or give --identity FILE")
	}
	return methods, closer, nil
}

func readSigner(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("identity %s is passphrase-protected: add it to ssh-agent (ssh-add %s)", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", path, err)
	}
	return s, nil
}

// hostKeyCallback pins the gateway key given, or checks known_hosts.
func (l Login) hostKeyCallback() (ssh.HostKeyCallback, []string, error) {
	if l.GatewayKey != "" {
		k, err := tickets.ParseKeyArg(l.GatewayKey)
		if err != nil {
			return nil, nil, err
		}
		return tickets.PinnedHostKeys([]ssh.PublicKey{k}), []string{k.Type()}, nil
	}
	path := l.KnownHosts
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil, err
		}
		path = filepath.Join(home, ".ssh", "known_hosts")
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		return nil, nil, fmt.Errorf("no gateway key to check against: give --gateway-key (assistd hostkey prints it) or add the gateway to %s: %w", path, err)
	}
	return cb, nil, nil
}

// Run runs one gateway command over SSH exec and returns its exit status.
func Run(ctx context.Context, c *ssh.Client, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	sess, err := c.NewSession()
	if err != nil {
		return 0, fmt.Errorf("open session: %w", err)
	}
	defer sess.Close()
	sess.Stdin, sess.Stdout, sess.Stderr = stdin, stdout, stderr
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	err = sess.Run(quoteArgs(args))
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		return exit.ExitStatus(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %q on the gateway: %w", strings.Join(args, " "), err)
	}
	return 0, nil
}

// quoteArgs quotes each argument for the gateway's POSIX-like splitting.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
