package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

type requestOptions struct {
	gateway, gatewayKey, keyFile string
	name, email, phone, message  string
	consent                      string
	display                      string
	verbose, terminal            bool
	uiTrace                      string
}

func (o *requestOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.gateway, "gateway", os.Getenv("ASSIST_GATEWAY"), "the help desk's gateway HOST:PORT, or several separated by commas, tried in turn (ASSIST_GATEWAY)")
	f.StringVar(&o.gatewayKey, "gateway-key", os.Getenv("ASSIST_GATEWAY_KEY"), "the gateway's host key line, or a file holding it (ASSIST_GATEWAY_KEY)")
	f.StringVar(&o.keyFile, "key", "", "this agent's key file (default: in your config directory, made on first run)")
	f.StringVar(&o.name, "name", "", "your full name")
	f.StringVar(&o.email, "email", "", "your email address")
	f.StringVar(&o.phone, "phone", "", "a phone number the help desk can call")
	f.StringVar(&o.message, "message", "", "what you need help with")
	f.StringVar(&o.consent, "consent", "", "answer every technician ahead: deny, view, control, full, or e.g. view,files-ro (for unattended use)")
	f.StringVar(&o.display, "display", os.Getenv("DISPLAY"), "X display to share")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log what the agent does")
	f.BoolVar(&o.terminal, "terminal", false, "ask on this terminal, not in a window (the default when --name or --consent is given, or there is no display)")
	// For tests and for whoever debugs the app: a JSON line for each window drawn, each
	// change of the keyboard focus and each consent answer. It holds what the windows show.
	f.StringVar(&o.uiTrace, "ui-trace", "", "write what the windows show, as JSON lines, to `FILE`")
	f.MarkHidden("ui-trace")
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
	stamp, err := ownStamp()
	if err != nil {
		return err
	}
	helpDesk, addrs, hk, err := o.gatewayOf(stamp)
	if err != nil {
		return err
	}
	key, err := loadKey(o.keyFile)
	if err != nil {
		return err
	}
	logLevel := slog.LevelWarn
	if o.verbose {
		logLevel = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	routes, screenWhy, closeRoutes := routes(o.display, logger)
	defer closeRoutes()
	offer := agent.Offers(routes)
	if screenWhy != "" {
		fmt.Fprintf(stderr, "assist-agent: screen sharing is unavailable: %s\n", screenWhy)
	}
	var ui agent.Conversation
	waitClosed := func(context.Context) {}
	if o.wantGUI() {
		trace, closeTrace, err := openTrace(o.uiTrace)
		if err != nil {
			return err
		}
		defer closeTrace()
		g, wait, closeAll, err := openGUI(helpDesk, offer, screenWhy, logger, trace)
		if err != nil {
			stdin, stdout, stderr = ownConsole(stdin, stdout, stderr)
			fmt.Fprintf(stderr, "assist-agent: can't open the window (%v); asking on the terminal instead\n", err)
		} else {
			ui, waitClosed = g, wait
			defer closeAll()
		}
	}
	term := newTerminal(stdin, stdout, isTerminal(stdin), offer, screenWhy)
	if ui == nil {
		ui = term
	}
	var consent agent.Consenter = ui
	if o.consent != "" {
		g, err := protocol.ParseGrant(o.consent)
		if err != nil {
			return &cli.Usage{Err: err}
		}
		consent = presetConsent{grant: g, out: stdout}
	} else if ui == term && !term.interactive {
		return cli.WithHint(&cli.Usage{Err: errors.New("no terminal to ask for consent")}, "give --consent deny|view|control|full to answer ahead")
	}
	form, err := ui.Form(ctx, o.known())
	switch {
	case isWindowClosed(err):
		fmt.Fprintln(stdout, "The window was closed; nothing was sent to the help desk.")
		return nil
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return &cli.Usage{Err: fmt.Errorf("request form: %w", err)}
	}
	form.Screen = tickets.ScreenAvailable
	if screenWhy != "" {
		form.Screen = tickets.ScreenUnavailable(screenWhy)
	}
	a, err := agent.New(agent.Config{
		Gateway:    addrs[0],
		Alternates: addrs[1:],
		HostKeys:   []ssh.PublicKey{hk},
		Key:        key,
		Form:       form,
		Consent:    consent,
		Routes:     routes,
		Offer:      offer,
		Logger:     logger,
		Events:     ui.Show,
	})
	if err != nil {
		return err
	}
	err = runUntilWithdrawn(ctx, a, stdout)
	if !errors.Is(err, agent.ErrWithdrawn) || ctx.Err() == nil {
		waitClosed(ctx) // the window's last words stay until the person closes it
	}
	var hke *tickets.HostKeyError
	var nse *tickets.NotSSHError
	switch {
	case errors.As(err, &hke):
		return cli.WithHint(err, "check --gateway-key against the line your help desk gave you")
	case errors.As(err, &nse):
		return cli.WithHint(err, "check --gateway: it wants the address and SSH port your help desk gave you (often :2222), not a web address")
	case errors.Is(err, agent.ErrRequestClosed), errors.Is(err, agent.ErrWithdrawn) && ctx.Err() == nil:
		return nil
	case errors.Is(err, agent.ErrWithdrawn):
		return ctx.Err() // interrupted: exit as interrupted, the request withdrawn
	}
	return err
}

// gatewayOf is the gateways to file with (the first, then the others in turn when one cannot
// be reached) and their host key: from the flags, or else from the stamp a help desk's /help
// page put on this program; and the help desk as the person reads it.
func (o *requestOptions) gatewayOf(stamp *tickets.Stamp) (helpDesk string, addrs []string, hk ssh.PublicKey, err error) {
	for a := range strings.SplitSeq(o.gateway, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return "", nil, nil, cli.WithHint(&cli.Usage{Err: fmt.Errorf("--gateway %q: want HOST:PORT", a)},
				"the address and SSH port your help desk gave you, e.g. help.example.org:2222")
		}
		addrs = append(addrs, a)
	}
	if stamp != nil {
		if len(addrs) == 0 {
			addrs = stamp.Gateways
		}
		hk = stamp.HostKey
	}
	if len(addrs) == 0 || o.gatewayKey == "" && hk == nil {
		return "", nil, nil, cli.WithHint(&cli.Usage{Err: errors.New("--gateway and --gateway-key are required")},
			"your help desk gives both; the key is the line 'assistd hostkey' prints")
	}
	if o.gatewayKey != "" {
		if hk, err = tickets.ParseKeyArg(o.gatewayKey); err != nil {
			return "", nil, nil, err
		}
	}
	if stamp != nil {
		return stamp.HelpDesk + " (" + addrs[0] + ")", addrs, hk, nil
	}
	return addrs[0], addrs, hk, nil
}

// runUntilWithdrawn runs the agent; when ctx ends (Ctrl-C, the window closed) it withdraws the
// request at the gateway before stopping, and says so.
func runUntilWithdrawn(ctx context.Context, a *agent.Agent, out io.Writer) error {
	stop := context.AfterFunc(ctx, func() {
		fmt.Fprintln(out, "\nWithdrawing your request…")
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Withdraw(wctx); err != nil {
			fmt.Fprintf(out, "Could not withdraw it: %v.\n", err)
		}
	})
	defer stop()
	return a.Run(context.WithoutCancel(ctx))
}

// openTrace opens --ui-trace's file, appending; no file, no trace.
func openTrace(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return nil, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--ui-trace: %w", err)
	}
	return slog.New(slog.NewJSONHandler(f, nil)), func() { f.Close() }, nil
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

// wantGUI: windows are the default where there is a display (always on Windows), unless the flags say this is a
// script (--name, --consent) or ask for the terminal.
func (o requestOptions) wantGUI() bool {
	if o.terminal || o.name != "" || o.consent != "" {
		return false
	}
	return runtime.GOOS == "windows" || os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// known is what the flags and the machine say about the request before the person is asked.
func (o requestOptions) known() tickets.Form {
	f := tickets.Form{FullName: o.name, Email: o.email, Phone: o.phone, Message: o.message}
	if u, err := user.Current(); err == nil {
		f.UserName = u.Username
	}
	f.Computer, _ = os.Hostname()
	return f
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
