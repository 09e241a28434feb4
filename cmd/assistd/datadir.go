package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
)

// dataDir is assistd's state: host key, database, audit key. Everything in it is 0600 in a 0700
// directory.
type dataDir string

func (d dataDir) hostKeyPath() string  { return filepath.Join(string(d), "ssh_host_ed25519_key") }
func (d dataDir) dbPath() string       { return filepath.Join(string(d), "assist.db") }
func (d dataDir) auditKeyPath() string { return filepath.Join(string(d), "audit.key") }

func (d dataDir) initialised() bool {
	_, err := os.Stat(d.dbPath())
	return err == nil
}

// create makes the directory, host key, audit key and database, and returns the open store. It
// refuses a directory that is initialised or holds anything else, and removes what it made when
// a step fails, so a failed init can simply be run again.
func (d dataDir) create() (store *tickets.Bolt, err error) {
	if d.initialised() {
		return nil, cli.WithHint(fmt.Errorf("%s is already initialised", d), "to start over, move the directory away first; nothing was changed")
	}
	if entries, _ := os.ReadDir(string(d)); len(entries) > 0 {
		return nil, cli.WithHint(fmt.Errorf("%s is not empty", d), "give a new or empty directory")
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	defer func() {
		if err != nil {
			for _, p := range []string{d.dbPath(), d.auditKeyPath(), d.hostKeyPath()} {
				os.Remove(p)
			}
		}
	}()
	if err := os.Chmod(string(d), 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	_, hostKey, err := tickets.NewKey("assistd host key")
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if err := writeNew(d.hostKeyPath(), hostKey); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate audit key: %w", err)
	}
	if err := writeNew(d.auditKeyPath(), key); err != nil {
		return nil, err
	}
	return tickets.OpenBolt(d.dbPath(), tickets.BoltOptions{AuditKey: key})
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func (d dataDir) hostKey() (ssh.Signer, error) {
	data, err := os.ReadFile(d.hostKeyPath())
	if err != nil {
		return nil, d.notInitialised(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", d.hostKeyPath(), err)
	}
	return s, nil
}

func (d dataDir) openStore() (*tickets.Bolt, error) {
	key, err := os.ReadFile(d.auditKeyPath())
	if err != nil {
		return nil, d.notInitialised(err)
	}
	if !d.initialised() {
		return nil, d.notInitialised(fs.ErrNotExist)
	}
	return tickets.OpenBolt(d.dbPath(), tickets.BoltOptions{AuditKey: key})
}

func (d dataDir) notInitialised(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return cli.WithHint(fmt.Errorf("%s is not an initialised data directory", d), "run: assistd init --data "+string(d)+" --admin NAME --admin-key KEY.pub")
	}
	return err
}

// hostKeyLine is the line agents and technicians pin.
func hostKeyLine(s ssh.Signer) string {
	return string(ssh.MarshalAuthorizedKey(s.PublicKey()))
}
