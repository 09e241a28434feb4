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

// hasKeys reports whether the directory holds an audit key: a gateway of an etcd cluster has
// its keys here and no database.
func (d dataDir) hasKeys() bool {
	_, err := os.Stat(d.auditKeyPath())
	return err == nil
}

// create makes the directory, host key, audit key and database, and returns the open store. It
// refuses a directory that is initialised or holds anything else, and removes what it made when
// a step fails, so a failed init can simply be run again.
func (d dataDir) create() (store *tickets.Bolt, err error) {
	undo, err := d.createKeys()
	if err != nil {
		return nil, err
	}
	key, err := d.auditKey()
	if err == nil {
		store, err = tickets.OpenBolt(d.dbPath(), tickets.BoltOptions{AuditKey: key})
	}
	if err != nil {
		undo()
		return nil, err
	}
	return store, nil
}

// createKeys makes the directory with its host key and audit key, and no database: a gateway
// of an etcd cluster keeps only its keys here. undo removes what it made.
func (d dataDir) createKeys() (undo func(), err error) {
	if d.initialised() || d.hasKeys() {
		return nil, cli.WithHint(fmt.Errorf("%s is already initialised", d), "to start over, move the directory away first; nothing was changed")
	}
	if entries, _ := os.ReadDir(string(d)); len(entries) > 0 {
		return nil, cli.WithHint(fmt.Errorf("%s is not empty", d), "give a new or empty directory")
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	undo = func() {
		for _, p := range []string{d.dbPath(), d.auditKeyPath(), d.hostKeyPath()} {
			os.Remove(p)
		}
	}
	defer func() {
		if err != nil {
			undo()
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
	return undo, nil
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

func (d dataDir) socketPath() string { return filepath.Join(string(d), "assistd.sock") }

func (d dataDir) auditKey() ([]byte, error) {
	key, err := os.ReadFile(d.auditKeyPath())
	if err != nil {
		return nil, d.notInitialised(err)
	}
	return key, nil
}

// openStore opens the data directory's existing store for a gateway: a missing, empty, damaged
// or unknown file is refused, never replaced.
func (d dataDir) openStore() (*tickets.Bolt, error) {
	return d.open(tickets.BoltOptions{MustExist: true})
}

func (d dataDir) open(o tickets.BoltOptions) (*tickets.Bolt, error) {
	key, err := d.auditKey()
	if err != nil {
		return nil, err
	}
	if !d.initialised() {
		return nil, d.notInitialised(fs.ErrNotExist)
	}
	o.AuditKey = key
	s, err := tickets.OpenBolt(d.dbPath(), o)
	return s, d.storeHint(err)
}

// storeHint says what to do about a store that cannot be opened.
func (d dataDir) storeHint(err error) error {
	var de *tickets.DamagedError
	var se *tickets.SchemaError
	switch {
	case errors.As(err, &de):
		return cli.WithHint(err, fmt.Sprintf("nothing was changed; keep the file for investigation and restore the last backup: assistd restore --data %s BACKUP.db (assistd check --data %s says what is damaged)", d, d))
	case errors.As(err, &se) && se.Version > 0:
		return cli.WithHint(err, "run the assistd release that wrote it, or a newer one; nothing was changed")
	case errors.As(err, &se):
		return cli.WithHint(err, "--data names the wrong directory, or its assist.db was replaced by another file; restore the last backup: assistd restore --data "+string(d)+" BACKUP.db")
	case errors.Is(err, tickets.ErrLocked):
		return cli.WithHint(err, "stop the gateway first, or use assistd backup and assistd check, which reach a running gateway")
	}
	return err
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
