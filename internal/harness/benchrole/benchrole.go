// Package benchrole holds what the benchmark programs' child processes share. A benchmark runs
// its gateway, agent and workload as processes of its own binary, each in a role: a role prints
// "ready …" on standard output once it can be used, and stops when its standard input closes.
package benchrole

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/tickets"
)

// Agent files a request at gateway, pinned to the host key in hostKeyLine, with a fresh agent
// key and cfg's form, consent and routes. It prints "ready CODE" once the request is filed and
// serves until standard input closes.
func Agent(gateway, hostKeyLine string, cfg agent.Config) error {
	hk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hostKeyLine))
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	key, _, err := tickets.NewKey("bench agent")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Gateway, cfg.HostKeys, cfg.Key = gateway, []ssh.PublicKey{hk}, key
	var ready sync.Once
	cfg.Events = func(e agent.Event) {
		if e.Kind == agent.EventFiled {
			ready.Do(func() { fmt.Printf("ready %s\n", e.Code) })
		}
	}
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
