package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/assistkit/assist/tickets"
)

// migration moves the store from version-1 to version, in one transaction that also sets the
// version, so two gateways of a new build starting at once migrate once. Migrations are never
// edited once released: a change of layout is a new migration.
type migration struct {
	version uint64
	name    string
	apply   func(t *txn) error
}

var migrations = []migration{
	{1, "keys of keys.go", func(*txn) error { return nil }}, // etcd has no buckets to make
	{2, "the cluster counts each credential's validity", countValidity},
}

// countValidity writes may_start/ for every credential issued before version 2 that has not
// expired on this gateway's clock (clock.go). It writes outside the transaction, since a
// cluster may hold more credentials than a transaction has operations: a put is the same
// whichever gateway makes it, or how often.
func countValidity(t *txn) error {
	s, now := t.s, t.s.now()
	return s.eachAt(pfxCreds, 0, func(k string, v []byte) error {
		var c tickets.Credential
		if tickets.DecodeValue(v, &c) != nil || c.State != tickets.CredentialIssued || !now.Before(c.Expires) {
			return nil
		}
		lease, err := s.validity(now, c.Expires)
		if err != nil {
			return err
		}
		ctx, cancel := s.opContext()
		defer cancel()
		_, err = s.cli.Put(ctx, s.k(pfxCredLive+c.Fingerprint), c.ID, clientv3.WithLease(lease))
		return s.unavailable(err)
	})
}

// schemaVersion is the version this build writes.
func schemaVersion() uint64 { return migrations[len(migrations)-1].version }

// ready checks the first contact with the cluster, and the schema.
func (s *Store) ready(ctx context.Context, init bool) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.k(keySchemaVersion))
	if err != nil {
		return fmt.Errorf("store %s: %w: %w", s.where, tickets.ErrUnavailable, err)
	}
	var current uint64
	switch {
	case len(resp.Kvs) == 0 && !init:
		return &tickets.SchemaError{Path: s.where}
	case len(resp.Kvs) > 0 && init:
		return fmt.Errorf("store %s: %w", s.where, tickets.ErrExists)
	case len(resp.Kvs) > 0:
		if current, err = decodeSchemaVersion(resp.Kvs[0].Value); err != nil {
			return &tickets.SchemaError{Path: s.where}
		}
		if current > schemaVersion() {
			return &tickets.SchemaError{Path: s.where, Version: current}
		}
	}
	return s.migrateFrom(current)
}

// errMigrated is a migration that another gateway ran first.
var errMigrated = errors.New("migrated meanwhile")

func (s *Store) migrateFrom(current uint64) error {
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		err := s.update(func(t *txn) error {
			if got := t.raw(keySchemaVersion); got != version(m.version-1) {
				return errMigrated
			}
			if err := m.apply(t); err != nil {
				return err
			}
			t.putRaw(keySchemaVersion, version(m.version))
			return nil
		})
		switch {
		case errors.Is(err, errMigrated) && current == 0:
			return fmt.Errorf("store %s: %w (another assistd init made it meanwhile)", s.where, tickets.ErrExists)
		case errors.Is(err, errMigrated):
			continue // the other gateway ran it; the next one compares again
		case err != nil:
			return fmt.Errorf("store %s: migration %d (%s): %w", s.where, m.version, m.name, err)
		}
	}
	return nil
}

// version is keySchemaVersion's value for v; "" for 0, which is no key at all.
func version(v uint64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatUint(v, 10)
}
