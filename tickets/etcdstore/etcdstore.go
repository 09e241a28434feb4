// Package etcdstore is a tickets.Store kept in an etcd cluster, so that several gateways share
// one help desk: every use case is one etcd transaction that compares the revisions of what it
// read (a software transaction), the audit trail is one chain whose head every transaction
// compares and moves, and what a gateway holds (agents, sessions) lives under that gateway's
// lease. docs/etcd.md says why.
package etcdstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/assistkit/assist/tickets"
)

// Options configure Open.
type Options struct {
	Endpoints []string    // host:port of the cluster's members
	TLS       *tls.Config // nil: plain connections
	// Prefix is where the store's keys start, so one cluster can hold other things too; empty
	// means "/assist/".
	Prefix string
	// AuditKey keys the audit chain, as tickets.BoltOptions.AuditKey: every gateway of the
	// cluster has the same one, kept outside etcd.
	AuditKey []byte
	// Init makes a new store and refuses a cluster that holds one (tickets.ErrExists); without
	// it, Open refuses a cluster that holds none (a *tickets.SchemaError).
	Init bool
	// Gateway names this gateway in presence and session keys; empty means the host name.
	Gateway string
	// LeaseTTL is how long the gateway's agents and sessions outlive it; zero means 3s.
	LeaseTTL time.Duration
	// Timeout bounds each operation, and the first contact in Open; zero means 5s.
	Timeout time.Duration
	Now     func() time.Time // nil: time.Now
	Logger  *slog.Logger     // nil: discard
}

// Store is the tickets.Store kept in etcd.
type Store struct {
	cli      *clientv3.Client
	prefix   string
	where    string // etcd://endpoints/prefix, for messages
	key      []byte
	now      func() time.Time
	timeout  time.Duration
	gateway  string
	leaseTTL time.Duration
	log      *slog.Logger

	// writes serialises this process's transactions: they all move the audit head, so two of
	// them at once would only make one retry. Transactions of other gateways still conflict,
	// and the loser retries.
	writes sync.Mutex

	leaseMu sync.Mutex
	session *concurrency.Session // this gateway's lease; nil until needed, or after it was lost

	conflicts atomic.Uint64             // transactions run again because another gateway's committed first
	downSince atomic.Pointer[time.Time] // since when the cluster did not answer; nil while it does (health.go)

	presence *presence
	ctx      context.Context
	cancel   context.CancelFunc
	closed   sync.Once
}

var _ tickets.Store = (*Store)(nil)

// Open connects to the cluster and checks (or, with o.Init, makes) the store's schema,
// migrating an older one.
func Open(ctx context.Context, o Options) (*Store, error) {
	if len(o.AuditKey) < 16 {
		return nil, errors.New("open store: audit key must be at least 16 bytes")
	}
	if len(o.Endpoints) == 0 {
		return nil, errors.New("open store: no etcd endpoints")
	}
	s := &Store{prefix: o.Prefix, key: slices.Clone(o.AuditKey), now: o.Now, timeout: o.Timeout,
		gateway: o.Gateway, leaseTTL: o.LeaseTTL, log: o.Logger}
	if s.prefix == "" {
		s.prefix = "/assist/"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout == 0 {
		s.timeout = 5 * time.Second
	}
	if s.leaseTTL == 0 {
		s.leaseTTL = 3 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.gateway == "" {
		s.gateway = hostname()
	}
	s.where = "etcd://" + strings.Join(o.Endpoints, ",") + s.prefix
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   o.Endpoints,
		TLS:         o.TLS,
		DialTimeout: s.timeout,
		Logger:      zap.NewNop(), // the store's errors say what failed; the client's retries are noise
		// A member that stops answering is left within seconds, for the next one.
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: %w: %w", s.where, tickets.ErrUnavailable, err)
	}
	s.cli = cli
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.ready(ctx, o.Init); err != nil {
		s.cancel()
		cli.Close()
		return nil, err
	}
	s.presence = newPresence(s)
	return s, nil
}

// Where names the store in messages: etcd://endpoints/prefix.
func (s *Store) Where() string { return s.where }

// Gateway is the name this gateway's presence and sessions carry.
func (s *Store) Gateway() string { return s.gateway }

// Close gives up this gateway's lease, so its agents and sessions show gone at once everywhere,
// and closes the connection; closing twice is harmless.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		s.presence.stop()
		s.leaseMu.Lock()
		if s.session != nil {
			err = s.session.Close()
		}
		s.leaseMu.Unlock()
		s.cancel()
		err = errors.Join(err, s.cli.Close())
	})
	return err
}

// k is a key below the prefix.
func (s *Store) k(key string) string { return s.prefix + key }

// txn is one use case's view of the store inside a software transaction: everything it reads is
// read at the revision of its first read, and its writes commit only if none of what it read
// changed since (each key's mod revision compared), else it runs again from the start. The
// reads are linearizable, so a member that lags serves none of them.
type txn struct {
	s      *Store
	ctx    context.Context
	rev    int64            // revision of the first read; 0 before it
	reads  map[string]read  // full key → what was read
	writes map[string]write // full key → what commit writes
	order  []string         // keys of writes, in the order written
}

type read struct {
	value  string
	modRev int64 // 0: no such key
}

type write struct {
	value string
	op    clientv3.Op
}

// errTxn carries an etcd failure out of a use case's function, so update can tell it from the
// use case's own errors.
type errTxn struct{ err error }

func (t *txn) fetch(full string) string {
	if w, ok := t.writes[full]; ok {
		return w.value
	}
	if r, ok := t.reads[full]; ok {
		return r.value
	}
	resp, err := t.s.cli.Get(t.ctx, full, clientv3.WithRev(t.rev))
	if err != nil {
		panic(errTxn{err})
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	var r read
	if len(resp.Kvs) > 0 {
		r = read{string(resp.Kvs[0].Value), resp.Kvs[0].ModRevision}
	}
	t.reads[full] = r
	return r.value
}

// get decodes the record at key, or returns tickets.ErrNotFound.
func (t *txn) get(key string, v any) error {
	raw := t.fetch(t.s.k(key))
	if raw == "" {
		return tickets.ErrNotFound
	}
	return tickets.DecodeValue([]byte(raw), v)
}

// raw is the value at key; "" when there is none (no value the store writes is empty).
func (t *txn) raw(key string) string { return t.fetch(t.s.k(key)) }

func (t *txn) put(key string, v any, opts ...clientv3.OpOption) error {
	raw, err := tickets.EncodeValue(v)
	if err != nil {
		return err
	}
	t.putRaw(key, string(raw), opts...)
	return nil
}

func (t *txn) putRaw(key, v string, opts ...clientv3.OpOption) {
	full := t.s.k(key)
	t.set(full, write{v, clientv3.OpPut(full, v, opts...)})
}

func (t *txn) del(key string) {
	full := t.s.k(key)
	t.set(full, write{"", clientv3.OpDelete(full)})
}

func (t *txn) set(full string, w write) {
	if _, ok := t.writes[full]; !ok {
		t.order = append(t.order, full)
	}
	t.writes[full] = w
}

// commit writes, if nothing read changed; false means something did.
func (t *txn) commit() (bool, error) {
	if len(t.writes) == 0 {
		return true, nil // read only: one revision's reads are consistent as they are
	}
	cmps := make([]clientv3.Cmp, 0, len(t.reads))
	for k, r := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", r.modRev))
	}
	ops := make([]clientv3.Op, 0, len(t.order))
	for _, k := range t.order {
		ops = append(ops, t.writes[k].op)
	}
	resp, err := t.s.cli.Txn(t.ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// run runs fn once in t; an etcd failure comes back as etcdErr, fn's own error as err.
func (t *txn) run(fn func(*txn) error) (err, etcdErr error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(errTxn)
			if !ok {
				panic(r)
			}
			etcdErr = e.err
		}
	}()
	return fn(t), nil
}

// update runs fn as one transaction. fn may run more than once (after a conflict), so it sets
// its results afresh on each run. Its own error is returned as it is; etcd's failures wrap
// tickets.ErrUnavailable.
func (s *Store) update(fn func(*txn) error) error {
	s.writes.Lock()
	defer s.writes.Unlock()
	ctx, cancel := s.opContext()
	defer cancel()
	for {
		t := &txn{s: s, ctx: ctx, reads: map[string]read{}, writes: map[string]write{}}
		err, etcdErr := t.run(fn)
		if etcdErr != nil {
			return s.unavailable(etcdErr)
		}
		if err != nil {
			return err
		}
		ok, err := t.commit()
		if err != nil {
			return s.unavailable(err)
		}
		if ok {
			return nil
		}
		s.conflicts.Add(1)
	}
}

// get reads one record outside a transaction (a linearizable read: what a quorum has).
func (s *Store) get(key string, v any) error {
	ctx, cancel := s.opContext()
	defer cancel()
	resp, err := s.cli.Get(ctx, s.k(key))
	if err != nil {
		return s.unavailable(err)
	}
	if len(resp.Kvs) == 0 {
		return tickets.ErrNotFound
	}
	return tickets.DecodeValue(resp.Kvs[0].Value, v)
}
