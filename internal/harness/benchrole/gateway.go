package benchrole

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

// Gateway is a benchmark's gateway: a fresh bbolt store, a new host key, serving on a loopback
// port.
type Gateway struct {
	Server  *sshd.Server
	Store   *tickets.Bolt
	HostKey ssh.Signer
	Addr    net.Addr

	stop    sync.Once
	stopErr error
}

// StartGateway serves a gateway with cfg, its store a new bbolt file in dir and its host key a
// new one (cfg's Store and HostKeys are set here).
func StartGateway(dir string, cfg sshd.Config) (*Gateway, error) {
	auditKey := make([]byte, 32)
	rand.Read(auditKey)
	store, err := tickets.OpenBolt(filepath.Join(dir, "assist.db"), tickets.BoltOptions{AuditKey: auditKey})
	if err != nil {
		return nil, err
	}
	g := &Gateway{Store: store}
	if g.HostKey, _, err = tickets.NewKey("bench gateway"); err != nil {
		store.Close()
		return nil, err
	}
	cfg.Store, cfg.HostKeys = store, []ssh.Signer{g.HostKey}
	if g.Server, err = sshd.New(cfg); err != nil {
		store.Close()
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.Addr = l.Addr()
	go g.Server.Serve(l)
	return g, nil
}

// HostKeyLine is the gateway's host key as an authorized_keys line, as an agent role is given it.
func (g *Gateway) HostKeyLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(g.HostKey.PublicKey())))
}

// Stop shuts the gateway down, giving its connections 5 s, and closes the store; once, however
// often it is called (a role defers it for its errors and returns it at the end).
func (g *Gateway) Stop() error {
	g.stop.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.stopErr = errors.Join(g.Server.Shutdown(ctx), g.Store.Close())
	})
	return g.stopErr
}
