package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/helpdesk"
	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

type serveOptions struct {
	data      string
	sshAddr   string
	advertise []string
	logFormat string
	authLog   string
	httpAddr  string
	tlsCert   string
	tlsKey    string
	downloads string
	// ready, if set, hears the SSH listener's address once it accepts (tests, demo).
	ready func(net.Addr)
	// httpReady, if set, hears the web listener's address once it accepts.
	httpReady func(net.Addr)
}

func (o *serveOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.data, "data", "", "data directory made by assistd init")
	cmd.Flags().StringVar(&o.sshAddr, "ssh", ":2222", "address the SSH server listens on")
	cmd.Flags().StringSliceVar(&o.advertise, "advertise", nil, "host:port written into .otc files (default: the address each technician reached)")
	cmd.Flags().StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	cmd.Flags().StringVar(&o.authLog, "auth-log", "", "write the OpenSSH-style auth lines, syslog-formatted, to this file instead of stderr (for fail2ban without journald)")
	cmd.Flags().StringVar(&o.httpAddr, "http", "127.0.0.1:8080", "address the help-desk web screen listens on (\"\" to turn it off)")
	cmd.Flags().StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate chain: serve the web screen over HTTPS (with --tls-key)")
	cmd.Flags().StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	cmd.Flags().StringVar(&o.downloads, "downloads", "", "directory of the built assist binaries offered at /download (make dist writes dist/)")
	cmd.MarkFlagRequired("data")
}

func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--ssh ADDR] [--http ADDR [--tls-cert FILE --tls-key FILE]]",
		Short: "Run the gateway and its help-desk web screen until SIGINT or SIGTERM",
		Long: `Run the gateway: the SSH server, and beside it the help-desk web screen, where technicians
sign in with the password set by "assist user passwd", see the open requests and download
one-time connection files. Serve the web screen over HTTPS (--tls-cert, --tls-key) or behind a
TLS proxy whenever it is reached from anything but this host.

Authentication lines go to stderr in OpenSSH's wording (journald or syslog picks them up, so
fail2ban's sshd filter reads them); other events are structured log lines, text or JSON.
SIGINT or SIGTERM stops both servers gracefully.`,
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
	if err := o.checkWeb(); err != nil {
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
	defer l.Close()
	web, err := o.startWeb(store, srv, l.Addr().String(), logger)
	if err != nil {
		return err
	}
	logger.Info("gateway listening", "ssh", l.Addr().String(), "hostkey", ssh.FingerprintSHA256(hk.PublicKey()))
	if o.ready != nil {
		o.ready(l.Addr())
	}
	errc := make(chan error, 2)
	running := 1
	go func() { errc <- srv.Serve(l) }()
	if web != nil {
		running++
		go func() { errc <- web.serve() }()
	}
	var failed error
	select {
	case failed = <-errc:
		running--
		logger.Error("server stopped; shutting down", "err", failed)
	case <-ctx.Done():
		logger.Info("shutting down")
	}
	err = shutdown(srv, web)
	// Both Serve loops return before the store closes.
	for ; running > 0; running-- {
		if e := <-errc; e != nil && !errors.Is(e, sshd.ErrServerClosed) && failed == nil {
			failed = e
		}
	}
	return errors.Join(failed, err)
}

// shutdown stops the web screen (letting requests in flight finish) and the gateway, each
// within ten seconds.
func shutdown(srv *sshd.Server, web *webServer) error {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if web != nil {
		if err := web.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down web screen: %w", err))
		}
	}
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down gateway: %w", err))
	}
	return errors.Join(errs...)
}

// checkWeb validates the web flags before anything is opened.
func (o *serveOptions) checkWeb() error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return &cli.Usage{Err: errors.New("--tls-cert and --tls-key go together")}
	}
	if o.httpAddr == "" && (o.tlsCert != "" || o.downloads != "") {
		return &cli.Usage{Err: errors.New("--tls-cert, --tls-key and --downloads need the web screen (--http)")}
	}
	if o.downloads != "" {
		if st, err := os.Stat(o.downloads); err != nil || !st.IsDir() {
			return cli.WithHint(fmt.Errorf("--downloads %s: not a directory", o.downloads), "build the binaries with make dist and pass its dist/ directory")
		}
	}
	return nil
}

// webServer is the help-desk web screen's HTTP server and listener.
type webServer struct {
	srv *http.Server
	l   net.Listener
	tls bool
}

// startWeb listens for the web screen; nil when --http is empty.
func (o *serveOptions) startWeb(store tickets.Store, gw *sshd.Server, sshAddr string, logger *slog.Logger) (*webServer, error) {
	if o.httpAddr == "" {
		return nil, nil
	}
	log := logger.With("component", "web")
	w := &webServer{tls: o.tlsCert != ""}
	var tlsConfig *tls.Config
	if w.tls {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("load --tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	desk, err := helpdesk.New(helpdesk.Config{
		Store: store, Gateway: gw, Logger: log, SSHAddr: sshAddr, Downloads: o.downloads, Secure: w.tls,
	})
	if err != nil {
		return nil, err
	}
	w.srv = &http.Server{
		Handler:           desk,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if w.l, err = net.Listen("tcp", o.httpAddr); err != nil {
		return nil, cli.WithHint(fmt.Errorf("listen on %s: %w", o.httpAddr, err), "choose another address with --http, e.g. --http 127.0.0.1:8081, or turn the web screen off with --http ''")
	}
	scheme := "http"
	if w.tls {
		scheme = "https"
	} else if !loopback(w.l.Addr()) {
		log.Warn("the help-desk web screen is served without TLS on a non-loopback address: passwords and one-time connection files cross the network in the clear; use --tls-cert/--tls-key or a TLS proxy", "http", w.l.Addr().String())
	}
	log.Info("help-desk web screen listening", "url", scheme+"://"+w.l.Addr().String()+"/", "downloads", o.downloads)
	if o.httpReady != nil {
		o.httpReady(w.l.Addr())
	}
	return w, nil
}

// serve runs until Shutdown, after which it returns nil.
func (w *webServer) serve() error {
	var err error
	if w.tls {
		err = w.srv.ServeTLS(w.l, "", "")
	} else {
		err = w.srv.Serve(w.l)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("web screen: %w", err)
}

func loopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
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
