package etcdstore

import (
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/assistkit/assist/tickets"
)

// The gateways of a cluster register under their leases (gateways/<name>): the address the
// others dial and the host keys they check, both ways, on the gateway-to-gateway connection
// that carries a session to the gateway holding its agent (sshd's peering). A gateway that
// dies drops out with its lease.

// RegisterGateway records g as this gateway (its Name is the store's gateway name) under the
// gateway's lease; again after the lease was lost.
func (s *Store) RegisterGateway(g tickets.Gateway) error {
	g.Name = s.gateway
	raw, err := tickets.EncodeValue(g)
	if err != nil {
		return fmt.Errorf("register gateway %s: %w", g.Name, err)
	}
	lease, err := s.lease()
	if err != nil {
		return err
	}
	ctx, cancel := s.opContext()
	defer cancel()
	if _, err := s.cli.Put(ctx, s.k(pfxGateways+g.Name), string(raw), clientv3.WithLease(lease)); err != nil {
		return s.unavailable(fmt.Errorf("register gateway %s: %w", g.Name, err))
	}
	s.presence.mu.Lock()
	s.presence.held[pfxGateways+g.Name] = string(raw)
	s.presence.mu.Unlock()
	return nil
}

// RegisteredGateway reads the registration of the gateway name from the cluster (not from a
// cache: a gateway that just died is not found); tickets.ErrNotFound when none is live.
func (s *Store) RegisteredGateway(name string) (tickets.Gateway, error) {
	var g tickets.Gateway
	if name == "" || strings.Contains(name, "/") {
		return g, fmt.Errorf("gateway %q: %w", truncate(name, 40), tickets.ErrNotFound)
	}
	if err := s.get(pfxGateways+name, &g); err != nil {
		return g, fmt.Errorf("gateway %q: %w", truncate(name, 40), err)
	}
	return g, nil
}

// Gateways lists the live gateways of the cluster, by name.
func (s *Store) Gateways() ([]tickets.Gateway, error) {
	ctx, cancel := s.opContext()
	defer cancel()
	resp, err := s.cli.Get(ctx, s.k(pfxGateways), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, s.unavailable(err)
	}
	out := make([]tickets.Gateway, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var g tickets.Gateway
		if err := tickets.DecodeValue(kv.Value, &g); err != nil {
			return out, fmt.Errorf("%s: %w", kv.Key, err)
		}
		out = append(out, g)
	}
	return out, nil
}

// SessionGateway names the gateway that holds the session of the credential fp, read from the
// cluster; "" when no live gateway does.
func (s *Store) SessionGateway(fp string) (string, error) {
	if fp == "" {
		return "", nil
	}
	ctx, cancel := s.opContext()
	defer cancel()
	resp, err := s.cli.Get(ctx, s.k(pfxSessions+fp))
	if err != nil {
		return "", s.unavailable(err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}
