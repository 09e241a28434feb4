package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/sshd"
)

type serveOptions struct {
	data      string
	sshAddr   string
	advertise []string
	logFormat string
	authLog   string
	// ready, if set, hears the SSH listener's address once it accepts (tests, demo).
	ready func(net.Addr)
}

func (o *serveOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.data, "data", "", "data directory made by assistd init")
	cmd.Flags().StringVar(&o.sshAddr, "ssh", ":2222", "address the SSH server listens on")
	cmd.Flags().StringSliceVar(&o.advertise, "advertise", nil, "host:port written into .otc files (default: the address each technician reached)")
	cmd.Flags().StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	cmd.Flags().StringVar(&o.authLog, "auth-log", "", "write the OpenSSH-style auth lines, syslog-formatted, to this file instead of stderr (for fail2ban without journald)")
	cmd.MarkFlagRequired("data")
}

func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--ssh ADDR]",
		Short: "Run the gateway until SIGINT or SIGTERM",
		Long: `Run the gateway. Authentication lines go to stderr in OpenSSH's wording (journald or
syslog picks them up, so fail2ban's sshd filter reads them); other events are structured
log lines, text or JSON. SIGINT or SIGTERM stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runServe(ctx context.Context, o serveOptions, stderr io.Writer) error {
	logger, err := newLogger(o.logFormat, stderr)
	if err != nil {
		return err
	}
	d := dataDir(o.data)
	hk, err := d.hostKey()
	if err != nil {
		return err
	}
	store, err := d.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	authOut := stderr
	if o.authLog != "" {
		f, err := os.OpenFile(o.authLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("open auth log: %w", err)
		}
		defer f.Close()
		authOut = f
	}
	srv, err := sshd.New(sshd.Config{
		Store:         store,
		HostKeys:      []ssh.Signer{hk},
		Logger:        logger,
		AuthLog:       authOut,
		AuthLogSyslog: o.authLog != "",
		Addresses:     o.advertise,
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.sshAddr)
	if err != nil {
		return cli.WithHint(fmt.Errorf("listen on %s: %w", o.sshAddr, err), "choose another address with --ssh, e.g. --ssh 127.0.0.1:2222")
	}
	logger.Info("gateway listening", "ssh", l.Addr().String(), "hostkey", ssh.FingerprintSHA256(hk.PublicKey()))
	if o.ready != nil {
		o.ready(l.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, sshd.ErrServerClosed) {
		return err
	}
	return nil
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, &cli.Usage{Err: fmt.Errorf("--log-format %q: want text or json", format)}
}
