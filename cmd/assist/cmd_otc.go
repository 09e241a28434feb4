package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
)

type otcOptions struct {
	output string
	ttl    time.Duration
}

func newOTCCommand(g *globalOptions) *cobra.Command {
	var o otcOptions
	cmd := &cobra.Command{
		Use:   "otc CODE [-o FILE]",
		Short: "Get a one-time connection file for a request (CODE.otc, mode 0600)",
		Long: `Ask the gateway for a one-time connection file (.otc) for a request, issued to you. It opens the
person's desktop and files once, until it expires (--ttl, default 15m). Open it with
assist connect FILE, or use it with standard clients through assist ssh-config FILE.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := runOTC(cmd.Context(), g, args[0], o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nopen it with: assist connect %s\n", path, path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "file to write (default CODE.otc; - for standard output)")
	cmd.Flags().DurationVar(&o.ttl, "ttl", tickets.DefaultTTL, "how long the file may be used to start a session")
	return cmd
}

// fetchOTC asks the gateway to issue an .otc for code and returns it parsed and raw.
func fetchOTC(ctx context.Context, g *globalOptions, code string, ttl time.Duration) (*tickets.OTC, []byte, error) {
	var out, errb bytes.Buffer
	err := runRemote(ctx, g, []string{"request", "otc", code, "--ttl", ttl.String()}, nil, &out, &errb)
	if err != nil {
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(errb.String()), "assistd: "))
		if msg != "" {
			return nil, nil, fmt.Errorf("%s", msg)
		}
		return nil, nil, err
	}
	o, err := tickets.ParseOTC(out.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("the gateway sent an unreadable .otc file: %w", err)
	}
	return o, out.Bytes(), nil
}

func runOTC(ctx context.Context, g *globalOptions, code string, o otcOptions) (string, error) {
	otc, raw, err := fetchOTC(ctx, g, code, o.ttl)
	if err != nil {
		return "", err
	}
	path := o.output
	if path == "" {
		path = otc.Request + ".otc"
	}
	if path == "-" {
		_, err := os.Stdout.Write(raw)
		return "-", err
	}
	if err := writePrivate(path, raw); err != nil {
		return "", err
	}
	return path, nil
}

// writePrivate writes a credential file readable by its owner only, replacing any old one.
func writePrivate(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return cli.WithHint(fmt.Errorf("write %s: %w", path, err), "choose another place with -o FILE")
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
