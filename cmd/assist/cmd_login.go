package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

func newLoginCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "login --gateway HOST:PORT --user NAME [--gateway-key KEY] [--identity FILE]",
		Short: "Check that you can reach the gateway and save these settings as your profile",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd.Context(), g, cmd.OutOrStdout())
		},
	}
}

func runLogin(ctx context.Context, g *globalOptions, stdout io.Writer) error {
	l, err := g.login()
	if err != nil {
		return err
	}
	c, err := l.Dial(ctx)
	if err != nil {
		return dialHint(err)
	}
	defer c.Close()
	var who struct{ out []byte }
	if _, err := viewer.Run(ctx, c, []string{"whoami"}, nil, writerFunc(func(p []byte) { who.out = append(who.out, p...) }), io.Discard); err != nil {
		return err
	}
	path, err := profilePath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	p, err := profileOf(l)
	if err != nil {
		return err
	}
	data, _ := json.MarshalIndent(p, "", "  ")
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	fmt.Fprintf(stdout, "logged in to %s as %sprofile saved in %s\n", l.Gateway, who.out, path)
	return nil
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// profileOf is the login as it is saved: files as absolute paths and the gateway key as its line,
// so that later commands from another directory find the same things.
func profileOf(l viewer.Login) (profile, error) {
	p := profile{Gateway: l.Gateway, User: l.User}
	var err error
	if p.Identity, err = absPath(l.Identity); err != nil {
		return p, fmt.Errorf("--identity: %w", err)
	}
	if p.KnownHosts, err = absPath(l.KnownHosts); err != nil {
		return p, fmt.Errorf("--known-hosts: %w", err)
	}
	if l.GatewayKey != "" {
		k, err := tickets.ParseKeyArg(l.GatewayKey)
		if err != nil {
			return p, err
		}
		p.GatewayKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	return p, nil
}

func absPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	return filepath.Abs(path)
}
