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
	"net/netip"
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
	storeOptions
	data      string
	sshAddr   string
	advertise []string
	peerAddr  string
	logFormat string
	authLog   string
	httpAddr  string
	tlsCert   string
	tlsKey    string
	downloads string
	// The person's /help page: the help desk's name, and the addresses stamped into the
	// assist-agent it hands out (default: --advertise).
	helpDesk   string
	publicAddr []string
	maxConns   int
	maxOpen    int
	perMinute  int
	proxies    []string
	trusted    []netip.Prefix // proxies, parsed by checkWeb
	// Session limits; zero is none.
	sessionMax, sessionIdle time.Duration
	record                  recordOptions
	keepChat                bool
	// ready, if set, hears the SSH listener's address once it accepts (tests, demo).
	ready func(net.Addr)
	// httpReady, if set, hears the web listener's address once it accepts.
	httpReady func(net.Addr)
}

func (o *serveOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.data, "data", "", "data directory made by assistd init")
	cmd.Flags().StringVar(&o.sshAddr, "ssh", ":2222", "address the SSH server listens on")
	cmd.Flags().StringSliceVar(&o.advertise, "advertise", nil, "host:port written into .otc files (default: the address each technician reached)")
	cmd.Flags().StringVar(&o.peerAddr, "peer-address", "", "on a cluster: host:port the other gateways dial to reach the agents connected here (default: the --ssh address, 127.0.0.1 for an unspecified host)")
	cmd.Flags().StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	cmd.Flags().StringVar(&o.authLog, "auth-log", "", "write the OpenSSH-style auth lines, syslog-formatted, to this file instead of stderr (for fail2ban without journald)")
	cmd.Flags().StringVar(&o.httpAddr, "http", "127.0.0.1:8080", "address the help-desk web screen listens on (\"\" to turn it off)")
	cmd.Flags().StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate chain: serve the web screen over HTTPS (with --tls-key)")
	cmd.Flags().StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	cmd.Flags().StringVar(&o.downloads, "downloads", "", "directory of the built assist and assist-agent binaries offered at /download and /help (make dist writes dist/)")
	cmd.Flags().StringVar(&o.helpDesk, "help-desk-name", "your help desk", "the help desk's name on the person's /help page: \"Get help from NAME\"")
	cmd.Flags().StringSliceVar(&o.publicAddr, "public-address", nil, "host:port of the SSH server as people's computers reach it, stamped into the assist-agent /help hands out (repeatable; default: --advertise)")
	cmd.Flags().StringSliceVar(&o.proxies, "trusted-proxy", nil, "CIDR (or address) of a reverse proxy in front of the web screen: for requests from it, the browser's address is read from X-Forwarded-For (repeatable)")
	cmd.Flags().IntVar(&o.maxConns, "max-connections", 0, "most connections held at once, agents included (default: seven eighths of the open-file limit)")
	cmd.Flags().IntVar(&o.maxOpen, "max-open-per-address", 100, "most open requests filed from one address (0: no limit)")
	cmd.Flags().IntVar(&o.perMinute, "max-filings-per-minute", 30, "most new requests filed from one address in a minute (0: no limit)")
	cmd.Flags().DurationVar(&o.sessionMax, "session-max", 0, "end every session this long after it started, e.g. 2h (0: no limit)")
	cmd.Flags().DurationVar(&o.sessionIdle, "session-idle", 0, "end a session after this long without input or a file operation from the technician, e.g. 15m (0: no limit)")
	o.record.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.keepChat, "keep-chat", false, "keep the text of chat messages in the audit trail (their sizes are always kept)")
	o.storeOptions.AddFlags(cmd)
	cmd.MarkFlagRequired("data")
}

// checkLimits refuses a negative session limit.
func (o *serveOptions) checkLimits() error {
	for name, d := range map[string]time.Duration{"--session-max": o.sessionMax, "--session-idle": o.sessionIdle} {
		if d < 0 {
			return cli.WithHint(fmt.Errorf("%s %s: a limit cannot be negative", name, d), "write it without the minus, or 0 for no limit")
		}
	}
	return nil
}

func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--ssh ADDR] [--http ADDR [--tls-cert FILE --tls-key FILE]]",
		Short: "Run the gateway and its help-desk web screen until SIGINT or SIGTERM",
		Long: `Run the gateway: the SSH server, and beside it the help-desk web screen, where technicians
sign in with the password set by "assist user passwd", see the open requests and download
one-time connection files. Serve the web screen over HTTPS (--tls-cert, --tls-key) or behind a
TLS proxy whenever it is reached from anything but this host; name that proxy with
--trusted-proxy so the browser's address is read from X-Forwarded-For.

Authentication lines go to stderr in OpenSSH's wording (journald or syslog picks them up, so
fail2ban's sshd filter reads them), failed web sign-ins among them (for the assistd-web jail);
other events are structured log lines, text or JSON.
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
	if err := o.checkLimits(); err != nil {
		return err
	}
	d := dataDir(o.data)
	hk, err := d.hostKey()
	if err != nil {
		return err
	}
	store, err := o.openStore(ctx, d, logger)
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
	maxConns, err := o.connectionCap(ctx, logger)
	if err != nil {
		return err
	}
	record, err := o.record.config(d, logger)
	if err != nil {
		return err
	}
	srv, err := sshd.New(sshd.Config{
		Record:              record,
		MaxConnections:      maxConns,
		MaxOpenPerAddress:   noLimitIfZero(o.maxOpen),
		MaxFilingsPerMinute: noLimitIfZero(o.perMinute),
		Store:               store,
		HostKeys:            []ssh.Signer{hk},
		Logger:              logger,
		AuthLog:             authOut,
		AuthLogSyslog:       o.authLog != "",
		Addresses:           o.advertise,
		PeerAddress:         o.peerAddr,
		SessionMax:          o.sessionMax,
		SessionIdle:         o.sessionIdle,
		KeepChat:            o.keepChat,
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.sshAddr)
	if err != nil {
		return cli.WithHint(fmt.Errorf("listen on %s: %w", o.sshAddr, err), "choose another address with --ssh, e.g. --ssh 127.0.0.1:2222")
	}
	defer l.Close()
	web, err := o.startWeb(store, srv, l.Addr().String(), hk, logger)
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

// openStore opens the gateway's store: the cluster's with --store, else the data directory's
// bbolt file, which assistd backup and assistd check reach through the admin socket.
func (o *serveOptions) openStore(ctx context.Context, d dataDir, logger *slog.Logger) (tickets.Store, error) {
	if o.etcd() {
		s, err := o.openEtcd(ctx, d, false, logger.With("component", "etcd"))
		if err != nil {
			return nil, err
		}
		logger.Info("store", "etcd", s.Where(), "gateway", s.Gateway())
		return s, nil
	}
	s, err := d.openStore()
	if err != nil {
		return nil, err
	}
	// Not fatal: agents and technicians matter more than backups, and the log says why.
	admin, err := listenAdmin(d.socketPath(), s, logger)
	if err != nil {
		logger.Warn("assistd backup and assistd check cannot reach this gateway", "err", err)
		return s, nil
	}
	return closeBoth{s, admin}, nil
}

// closeBoth is the bbolt store with its admin socket, which closes first.
type closeBoth struct {
	*tickets.Bolt
	admin *adminSocket
}

func (c closeBoth) Close() error {
	c.admin.Close()
	return c.Bolt.Close()
}

// connectionCap raises the open-file limit as far as the system allows and returns the
// connection cap: --max-connections, or what fits the limit. Past the cap the gateway closes
// new connections at once instead of failing to accept them. The memory limit follows the cap.
func (o *serveOptions) connectionCap(ctx context.Context, logger *slog.Logger) (int, error) {
	soft, hard, err := cli.RaiseFileLimit()
	if err != nil {
		return 0, err
	}
	fit := sshd.ConnectionsFor(soft)
	limit := o.maxConns
	switch {
	case limit < 0:
		return 0, &cli.Usage{Err: fmt.Errorf("--max-connections %d: want a positive number", limit)}
	case limit == 0:
		limit = fit
	case soft > 0 && limit > fit:
		logger.Warn("--max-connections is above what the open-file limit holds; the gateway may fail to accept before it refuses",
			"max_connections", limit, "fits", fit, "hint", "raise LimitNOFILE= in the systemd unit, or ulimit -n")
	}
	// An idle agent's connection holds about 45 KiB: 22 KiB of goroutine stacks (x/crypto's
	// three and the gateway's one) and 20 KiB of heap, most of it x/crypto's buffers (runtime
	// metrics of the scale bench's gateway at 5,000 agents, after three collections). 64 KiB
	// each over the 512 MiB that file transfers want keeps a full gateway from collecting
	// without pause, and the garbage of 20,000 agents' handshakes from holding 2 GiB.
	memLimit := int64(512<<20) + int64(limit)*(64<<10)
	cli.ServerGC(ctx, memLimit, logger)
	logger.Info("open-file limit", "soft", soft, "hard", hard, "max_connections", limit, "memory_limit_mib", memLimit>>20)
	return limit, nil
}

// noLimitIfZero maps a flag's 0 ("no limit") to sshd.Config's -1; sshd.Config's 0 is its default.
func noLimitIfZero(n int) int {
	if n <= 0 {
		return -1
	}
	return n
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
	for _, a := range o.publicAddr {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			return cli.WithHint(&cli.Usage{Err: fmt.Errorf("--public-address %q: want host:port", a)}, "the address and SSH port people's computers reach, e.g. --public-address help.example.org:2222")
		}
	}
	for _, p := range o.proxies {
		prefix, err := parseProxy(p)
		if err != nil {
			return cli.WithHint(fmt.Errorf("--trusted-proxy %q: %w", p, err), "give the proxy's address or network, e.g. --trusted-proxy 127.0.0.1 or --trusted-proxy 10.0.0.0/24")
		}
		o.trusted = append(o.trusted, prefix)
	}
	if o.httpAddr == "" && len(o.trusted) > 0 {
		return &cli.Usage{Err: errors.New("--trusted-proxy needs the web screen (--http)")}
	}
	if o.downloads != "" {
		if st, err := os.Stat(o.downloads); err != nil || !st.IsDir() {
			return cli.WithHint(fmt.Errorf("--downloads %s: not a directory", o.downloads), "build the binaries with make dist and pass its dist/ directory")
		}
	}
	return nil
}

// parseProxy reads a --trusted-proxy value: a CIDR, or one address.
func parseProxy(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not an address or CIDR")
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// webServer is the help-desk web screen's HTTP server and listener.
type webServer struct {
	srv *http.Server
	l   net.Listener
	tls bool
}

// startWeb listens for the web screen; nil when --http is empty.
// publicAddresses are what /help stamps into assist-agent: --public-address, or --advertise.
func (o *serveOptions) publicAddresses() []string {
	if len(o.publicAddr) > 0 {
		return o.publicAddr
	}
	return o.advertise
}

func (o *serveOptions) startWeb(store tickets.Store, gw *sshd.Server, sshAddr string, hostKey ssh.Signer, logger *slog.Logger) (*webServer, error) {
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
		TrustedProxies: o.trusted, AuthLog: gw.AuthLog(), Recordings: deskRecordings{gw},
		Help: helpdesk.Help{Name: o.helpDesk, Addresses: o.publicAddresses(), HostKey: hostKey},
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
