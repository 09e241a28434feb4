package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// newRemoteCommand passes a command group to the gateway, which owns its flags and output;
// assist only adds the login, and shows the gateway's --help itself (see remoteHelp). "user add
// --key FILE" reads FILE here and sends it.
func newRemoteCommand(g *globalOptions, name, short string) *cobra.Command {
	cmd := &cobra.Command{
		Use:                name + " …",
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := g.takeFlags(args)
			if err != nil {
				return err
			}
			args = append([]string{name}, args...)
			if page, ok := remoteHelp(args); ok {
				showRemoteHelp(cmd.OutOrStdout(), cmd.Root(), page)
				return nil
			}
			return runRemote(cmd.Context(), g, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) { // assist help NAME [SUB]
		page, _ := remoteHelp(append([]string{name, "--help"}, args...))
		showRemoteHelp(c.OutOrStdout(), c.Root(), page)
	})
	return cmd
}

// takeFlags removes assist's own login flags from args that Cobra did not parse.
func (g *globalOptions) takeFlags(args []string) ([]string, error) {
	targets := map[string]*string{"--gateway": &g.gateway, "--user": &g.user, "--identity": &g.identity, "--gateway-key": &g.gatewayKey, "--known-hosts": &g.knownHosts}
	var rest []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		dst, ok := targets[name]
		if !ok {
			rest = append(rest, args[i])
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, &cli.Usage{Err: fmt.Errorf("%s needs a value", name)}
			}
			i++
			value = args[i]
		}
		*dst = value
	}
	return rest, nil
}

func runRemote(ctx context.Context, g *globalOptions, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	args, stdin, err := keyFromFile(args, stdin)
	if err != nil {
		return err
	}
	l, err := g.login()
	if err != nil {
		return err
	}
	if stdin, err = askPassword(args, l.User, stdin, stderr); err != nil {
		return err
	}
	c, err := l.Dial(ctx)
	if err != nil {
		return dialHint(err)
	}
	defer c.Close()
	status, err := viewer.Run(ctx, c, args, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	if status != 0 {
		return cli.ExitStatus(status)
	}
	return nil
}

// keyFromFile turns "user add NAME --key FILE" into "--key 'KEY LINES'", since the gateway
// cannot read the technician's files; standard input stays free for --password-stdin.
func keyFromFile(args []string, stdin io.Reader) ([]string, io.Reader, error) {
	if len(args) < 2 || args[0] != "user" || args[1] != "add" {
		return args, stdin, nil
	}
	out := append([]string(nil), args...)
	for i, a := range out {
		var path string
		switch {
		case a == "--key" && i+1 < len(out):
			path = out[i+1]
		case strings.HasPrefix(a, "--key="):
			path = strings.TrimPrefix(a, "--key=")
		default:
			continue
		}
		if path == "-" || strings.HasPrefix(path, "ssh-") || strings.HasPrefix(path, "ecdsa-") {
			return out, stdin, nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("--key: %w", err)
		}
		if a == "--key" {
			out[i+1] = string(data)
		} else {
			out[i] = "--key=" + string(data)
		}
		return out, stdin, nil
	}
	return out, stdin, nil
}

// dialHint adds what to check to the ways a login to the gateway fails.
func dialHint(err error) error {
	var hk *tickets.HostKeyError
	var op *net.OpError
	var ns *tickets.NotSSHError
	switch {
	case errors.As(err, &ns):
		return cli.WithHint(err, "give the port assistd serve --ssh listens on (default 2222); the web screen's port (--http) is for browsers")
	case errors.As(err, &hk):
		return cli.WithHint(err, "compare --gateway-key (or ASSIST_GATEWAY_KEY, or your profile) with the line 'assistd hostkey' prints on the gateway")
	case errors.As(err, &op) && op.Op == "dial":
		return cli.WithHint(err, "is assistd running there? check --gateway, ASSIST_GATEWAY or your profile (assist login)")
	case strings.Contains(err.Error(), "unable to authenticate"):
		return cli.WithHint(err, "check --user and --identity; an admin adds your public key with: assist user add NAME --key KEY.pub")
	}
	return err
}
