package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

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
	data, _ := json.MarshalIndent(profile{l.Gateway, l.User, l.Identity, l.GatewayKey, l.KnownHosts}, "", "  ")
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	fmt.Fprintf(stdout, "logged in to %s as %sprofile saved in %s\n", l.Gateway, who.out, path)
	return nil
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
