//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// opensshd is Debian's sshd started for the bench on a spare loopback port, with its own host
// key, authorized_keys and internal-sftp, and a client config that reaches it as "bench-sshd".
type opensshd struct {
	cmd        *exec.Cmd
	clientConf string
	stderr     *bytes.Buffer
}

const sshdAlias = "bench-sshd"

func startOpenSSHD(ctx context.Context, dir, sshdPath string) (*opensshd, error) {
	if _, err := os.Stat(sshdPath); err != nil {
		return nil, fmt.Errorf("%s: %w (Debian: apt install openssh-server)", sshdPath, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start without its privilege separation directory, which Debian makes
		// only when the service runs.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, err
		}
	}
	hostKey, hostPub, err := writeKeyPair(filepath.Join(dir, "host_key"))
	if err != nil {
		return nil, err
	}
	_, clientPub, err := writeKeyPair(filepath.Join(dir, "client_key"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), clientPub, 0o600); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := sparePort()
		if err != nil {
			return nil, err
		}
		d, err := runSSHD(ctx, dir, sshdPath, hostKey, port)
		if err != nil {
			lastErr = err
			continue // someone took the port between our check and sshd's bind
		}
		known := fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub)
		if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o644); err != nil {
			d.stop()
			return nil, err
		}
		d.clientConf = filepath.Join(dir, "client_config")
		conf := fmt.Sprintf(`Host %s
    HostName 127.0.0.1
    Port %d
    User %s
    IdentityFile %s
    IdentitiesOnly yes
    IdentityAgent none
    UserKnownHostsFile %s
    GlobalKnownHostsFile none
    StrictHostKeyChecking yes
    BatchMode yes
`, sshdAlias, port, u.Username, filepath.Join(dir, "client_key"), filepath.Join(dir, "known_hosts"))
		if err := os.WriteFile(d.clientConf, []byte(conf), 0o600); err != nil {
			d.stop()
			return nil, err
		}
		return d, nil
	}
	return nil, lastErr
}

func runSSHD(ctx context.Context, dir, sshdPath, hostKey string, port int) (*opensshd, error) {
	conf := filepath.Join(dir, "sshd_config")
	text := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
Subsystem sftp internal-sftp
LogLevel ERROR
`, port, hostKey, filepath.Join(dir, "authorized_keys"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	d := &opensshd{stderr: &bytes.Buffer{}}
	d.cmd = exec.Command(sshdPath, "-D", "-e", "-f", conf)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sshd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("sshd exited: %v: %s", err, strings.TrimSpace(d.stderr.String()))
		case <-ctx.Done():
			d.cmd.Process.Kill()
			return nil, ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
			c.Close()
			go func() { <-exited }()
			return d, nil
		}
		time.Sleep(20 * time.Millisecond) // sshd says nothing when it listens at LogLevel ERROR
	}
	d.cmd.Process.Kill()
	return nil, errors.New("sshd did not listen in 10s")
}

func (d *opensshd) stop() {
	if d.cmd.Process != nil {
		d.cmd.Process.Kill()
	}
}

func sparePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeKeyPair writes an ed25519 private key in OpenSSH format (0600) and returns its path and
// public key line.
func writeKeyPair(path string) (string, []byte, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "filebench")
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", nil, err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", nil, err
	}
	return path, ssh.MarshalAuthorizedKey(sp), nil
}
