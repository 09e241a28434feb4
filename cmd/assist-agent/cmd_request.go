package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

type requestOptions struct {
	gateway, gatewayKey, keyFile string
	name, email, phone, message  string
	consent                      string
	display                      string
	verbose                      bool
}

func (o *requestOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.gateway, "gateway", os.Getenv("ASSIST_GATEWAY"), "the help desk's gateway HOST:PORT (ASSIST_GATEWAY)")
	f.StringVar(&o.gatewayKey, "gateway-key", os.Getenv("ASSIST_GATEWAY_KEY"), "the gateway's host key line, or a file holding it (ASSIST_GATEWAY_KEY)")
	f.StringVar(&o.keyFile, "key", "", "this agent's key file (default: in your config directory, made on first run)")
	f.StringVar(&o.name, "name", "", "your full name")
	f.StringVar(&o.email, "email", "", "your email address")
	f.StringVar(&o.phone, "phone", "", "a phone number the help desk can call")
	f.StringVar(&o.message, "message", "", "what you need help with")
	f.StringVar(&o.consent, "consent", "", "answer every technician ahead: deny, view, control, full, or e.g. view,files-ro (for unattended use)")
	f.StringVar(&o.display, "display", os.Getenv("DISPLAY"), "X display to share")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log what the agent does")
}

func newRequestCommand() *cobra.Command {
	var o requestOptions
	cmd := &cobra.Command{
		Use:   "request --gateway HOST:PORT --gateway-key KEY [--name N --email E --phone P --message M]",
		Short: "File a request and wait for a technician",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRequest(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runRequest(ctx context.Context, o requestOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.gateway == "" || o.gatewayKey == "" {
		return cli.WithHint(&cli.Usage{Err: errors.New("--gateway and --gateway-key are required")},
			"your help desk gives both; the key is the line 'assistd hostkey' prints")
	}
	hk, err := viewer.ParseKeyArg(o.gatewayKey)
	if err != nil {
		return err
	}
	key, err := loadKey(o.keyFile)
	if err != nil {
		return err
	}
	ui := newTerminal(stdin, stdout, isTerminal(stdin))
	form, err := o.form(ui)
	if err != nil {
		return err
	}
	var consent agent.Consenter = ui
	if o.consent != "" {
		g, err := tickets.ParseGrant(o.consent)
		if err != nil {
			return &cli.Usage{Err: err}
		}
		consent = presetConsent{grant: g, out: stdout}
	} else if !ui.interactive {
		return cli.WithHint(&cli.Usage{Err: errors.New("no terminal to ask for consent")}, "give --consent deny|view|control|full to answer ahead")
	}
	logLevel := slog.LevelWarn
	if o.verbose {
		logLevel = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	routes, closeRoutes, err := routes(o.display, logger, stderr)
	if err != nil {
		return err
	}
	defer closeRoutes()
	var a *agent.Agent
	a, err = agent.New(agent.Config{
		Gateway:  o.gateway,
		HostKeys: []ssh.PublicKey{hk},
		Key:      key,
		Form:     form,
		Consent:  consent,
		Routes:   routes,
		Logger:   logger,
		Events:   func(e agent.Event) { ui.event(e, a) },
	})
	if err != nil {
		return err
	}
	ui.endOnEnter(a.End)
	err = a.Run(ctx)
	if errors.Is(err, agent.ErrRequestClosed) {
		fmt.Fprintln(stdout, "The help desk closed your request. Goodbye.")
		return nil
	}
	var hke *tickets.HostKeyError
	if errors.As(err, &hke) {
		return cli.WithHint(err, "check --gateway-key against the line your help desk gave you")
	}
	return err
}

func loadKey(path string) (ssh.Signer, error) {
	if path == "" {
		var err error
		if path, err = agent.DefaultKeyPath(); err != nil {
			return nil, err
		}
	}
	return agent.LoadOrCreateKey(path)
}

// form fills what the person did not give on the command line by asking, and what the machine
// knows by itself.
func (o requestOptions) form(ui *terminal) (tickets.Form, error) {
	f := tickets.Form{FullName: o.name, Email: o.email, Phone: o.phone, Message: o.message}
	if u, err := user.Current(); err == nil {
		f.UserName = u.Username
	}
	f.Computer, _ = os.Hostname()
	if ui.interactive {
		for _, q := range []struct {
			prompt string
			dst    *string
		}{{"Your full name", &f.FullName}, {"Email", &f.Email}, {"Phone", &f.Phone}, {"What do you need help with", &f.Message}} {
			if *q.dst == "" {
				*q.dst = ui.ask(q.prompt + ": ")
			}
		}
	}
	clean, err := f.Clean()
	if err != nil {
		return f, &cli.Usage{Err: fmt.Errorf("request form: %w", err)}
	}
	return clean, nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
