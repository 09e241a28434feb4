package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/tickets/etcdstore"
)

// storeOptions choose where requests are kept: the bbolt file in --data (no --store), or an
// etcd cluster that several gateways share (--store etcd://h1:2379,h2:2379[/prefix]).
type storeOptions struct {
	store   string
	caCert  string
	cert    string
	key     string
	gateway string
}

func (o *storeOptions) AddFlags(cmd *cobra.Command) {
	o.addEtcdFlags(cmd)
	cmd.Flags().StringVar(&o.gateway, "gateway-name", "", "this gateway's name in the cluster (default: the host name and process ID)")
}

// addEtcdFlags adds the flags that reach the cluster, for the commands that are not a gateway.
func (o *storeOptions) addEtcdFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.store, "store", "", "keep requests in an etcd cluster that several gateways share: etcd://HOST:PORT,HOST:PORT[/PREFIX] (default: the bbolt file in --data)")
	cmd.Flags().StringVar(&o.caCert, "etcd-cacert", "", "PEM CA certificate that signed the etcd members' certificates: talk TLS to them")
	cmd.Flags().StringVar(&o.cert, "etcd-cert", "", "PEM client certificate for etcd (with --etcd-key)")
	cmd.Flags().StringVar(&o.key, "etcd-key", "", "PEM private key of --etcd-cert")
}

// etcd reports whether the store is an etcd cluster.
func (o *storeOptions) etcd() bool { return o.store != "" }

// etcdTarget is a parsed --store.
type etcdTarget struct {
	endpoints []string
	prefix    string
}

// parseStoreURL reads etcd://HOST:PORT,HOST:PORT[/PREFIX].
func parseStoreURL(s string) (etcdTarget, error) {
	rest, ok := strings.CutPrefix(s, "etcd://")
	if !ok {
		return etcdTarget{}, fmt.Errorf("--store %q: want etcd://HOST:PORT,HOST:PORT[/PREFIX]", s)
	}
	hosts, path, _ := strings.Cut(rest, "/")
	var t etcdTarget
	for _, h := range strings.Split(hosts, ",") {
		if host, port, err := net.SplitHostPort(h); err != nil || host == "" || port == "" {
			return etcdTarget{}, fmt.Errorf("--store %q: member %q: want HOST:PORT", s, h)
		}
		t.endpoints = append(t.endpoints, h)
	}
	if path = strings.Trim(path, "/"); path != "" {
		if _, err := url.PathUnescape(path); err != nil || strings.ContainsAny(path, "\x00") {
			return etcdTarget{}, fmt.Errorf("--store %q: prefix %q is not a path", s, path)
		}
		t.prefix = "/" + path + "/"
	}
	return t, nil
}

// tlsConfig is the client TLS of the etcd flags; nil when none is given.
func (o *storeOptions) tlsConfig() (*tls.Config, error) {
	if o.caCert == "" && o.cert == "" && o.key == "" {
		return nil, nil
	}
	if (o.cert == "") != (o.key == "") {
		return nil, &cli.Usage{Err: errors.New("--etcd-cert and --etcd-key go together")}
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caCert != "" {
		pem, err := os.ReadFile(o.caCert)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cacert: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--etcd-cacert %s: no PEM certificate in it", o.caCert)
		}
	}
	if o.cert != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cert, --etcd-key: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// openEtcd opens (or, with init, makes) the store on the cluster --store names, with the data
// directory's audit key.
func (o *storeOptions) openEtcd(ctx context.Context, d dataDir, init bool, logger *slog.Logger) (*etcdstore.Store, error) {
	target, err := parseStoreURL(o.store)
	if err != nil {
		return nil, &cli.Usage{Err: err}
	}
	tc, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	key, err := d.auditKey()
	if err != nil {
		return nil, err
	}
	s, err := etcdstore.Open(ctx, etcdstore.Options{Endpoints: target.endpoints, Prefix: target.prefix, TLS: tc,
		AuditKey: key, Init: init, Gateway: o.gatewayName(), Logger: logger})
	return s, o.etcdHint(err, d)
}

// gatewayName names this gateway in the cluster's presence: the host, and the process.
func (o *storeOptions) gatewayName() string {
	if o.gateway != "" {
		return o.gateway
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "gateway"
	}
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

// etcdHint says what to do about a cluster store that cannot be opened.
func (o *storeOptions) etcdHint(err error, d dataDir) error {
	var se *tickets.SchemaError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tickets.ErrUnavailable):
		return cli.WithHint(err, "check that etcd runs at the addresses of --store and that this host reaches them (etcdctl --endpoints ... endpoint health); a TLS cluster needs --etcd-cacert, and --etcd-cert/--etcd-key if it checks clients")
	case errors.Is(err, tickets.ErrExists):
		return cli.WithHint(err, "the cluster is initialised already: copy "+d.auditKeyPath()+" and the host key from the first gateway's data directory, then run assistd serve --store "+o.store)
	case errors.As(err, &se) && se.Version > 0:
		return cli.WithHint(err, "run the assistd release that wrote it, or a newer one; nothing was changed")
	case errors.As(err, &se):
		return cli.WithHint(err, "initialise the cluster once: assistd init --store "+o.store+" --data DIR --admin NAME --admin-key KEY.pub")
	}
	return err
}
