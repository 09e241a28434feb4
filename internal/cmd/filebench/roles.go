//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/benchrole"
	"github.com/assistkit/assist/protocol"
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
	g, err := benchrole.StartGateway(dir, sshd.Config{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer g.Stop()
	if err := g.Store.AddUser(tickets.User{Name: benchTechnician, FullName: "Bench Technician", Keys: []string{techKey}}); err != nil {
		return fmt.Errorf("add technician: %w", err)
	}
	fmt.Printf("ready %s %s\n", g.Addr, g.HostKeyLine())
	io.Copy(io.Discard, os.Stdin)
	return g.Stop()
}

// fullConsent is a person who allows everything at once.
type fullConsent struct{}

func (fullConsent) Ask(context.Context, protocol.ConsentAsk) (protocol.Grant, error) {
	return protocol.GrantFilesRead | protocol.GrantFilesWrite, nil
}

// runAgentRole files a request at the gateway and serves files; it prints "ready CODE".
func runAgentRole(gateway, hostKeyLine string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return benchrole.Agent(gateway, hostKeyLine, agent.Config{
		Consent: fullConsent{}, Logger: log,
		Form:   tickets.Form{FullName: "Bench Person", UserName: "bench", Computer: "bench", Email: "bench@example.org", Phone: "+1 555 0100", Message: "file benchmark"},
		Routes: map[string]agent.Route{"session": agent.FilesRoute(log)},
	})
}

// child is a running role process.
type child struct {
	*benchrole.Process
	ready []string // the words after "ready"
}

// startChild re-runs this binary in a role and waits for its ready line.
func startChild(ctx context.Context, name string, args ...string) (*child, error) {
	p, err := benchrole.Start(name, args...)
	if err != nil {
		return nil, err
	}
	c := &child{Process: p}
	type answer struct {
		words []string
		err   error
	}
	line := make(chan answer, 1)
	go func() {
		words, err := p.Line("ready")
		line <- answer{words, err}
		io.Copy(io.Discard, p.Out)
	}()
	select {
	case a := <-line:
		if a.err != nil || len(a.words) == 0 {
			c.stop()
			return nil, fmt.Errorf("%s did not start: %v", name, a.err)
		}
		c.ready = a.words
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
func (c *child) stop() { c.Stop(10 * time.Second) }
