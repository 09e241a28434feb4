package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// DefaultKeyPath is where the agent keeps its key: the user's config directory.
func DefaultKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory: %w", err)
	}
	return filepath.Join(dir, "assist", "agent_ed25519"), nil
}

// LoadOrCreateKey reads the agent's ed25519 key at path, making it (mode 0600, directory 0700)
// on first run.
func LoadOrCreateKey(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		s, err := ssh.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("agent key %s: %w", path, err)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("agent key: %w", err)
	}
	signer, keyPEM, err := tickets.NewKey("assist-agent")
	if err != nil {
		return nil, fmt.Errorf("agent key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("agent key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write agent key: %w", err)
	}
	if _, err := f.Write(keyPEM); err != nil {
		f.Close()
		return nil, fmt.Errorf("write agent key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write agent key: %w", err)
	}
	return signer, nil
}
