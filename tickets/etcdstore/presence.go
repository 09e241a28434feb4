package etcdstore

import (
	"context"
	"fmt"
	"maps"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// What a gateway holds — its agents' connections and its sessions — is written under one lease
// of that gateway's, kept alive while the gateway runs. When the gateway dies the lease runs out
// (LeaseTTL) and etcd deletes those keys, so every gateway sees its agents offline and its
// sessions ended without being told.

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "gateway"
	}
	return h
}

// lease is this gateway's lease, granted on first use and again after it was lost (etcd
// unreachable for longer than the TTL); a new lease gets the keys this gateway still holds.
func (s *Store) lease() (clientv3.LeaseID, error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.session != nil {
		select {
		case <-s.session.Done():
			s.log.Warn("etcd lease lost: agents and sessions of this gateway showed gone meanwhile; writing them again", "gateway", s.gateway)
			s.session = nil
		default:
			return s.session.Lease(), nil
		}
	}
	ctx, cancel := s.opContext()
	defer cancel()
	ttl := int64(s.leaseTTL / time.Second)
	if ttl < 1 {
		ttl = 1
	}
	g, err := s.cli.Grant(ctx, ttl)
	if err != nil {
		return 0, s.unavailable(fmt.Errorf("grant lease: %w", err))
	}
	sess, err := concurrency.NewSession(s.cli, concurrency.WithLease(g.ID), concurrency.WithContext(s.ctx))
	if err != nil {
		return 0, s.unavailable(fmt.Errorf("keep lease alive: %w", err))
	}
	s.session = sess
	s.presence.regrant(g.ID)
	go s.renewWhenLost(sess)
	return g.ID, nil
}

// renewWhenLost takes a new lease as soon as sess's runs out while the store is open (etcd
// was unreachable for longer than the TTL), so that what this gateway holds shows again
// without waiting for its next agent.
func (s *Store) renewWhenLost(sess *concurrency.Session) {
	select {
	case <-s.ctx.Done():
		return
	case <-sess.Done():
	}
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		if _, err := s.lease(); err == nil {
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// presence is the cluster's presence/ keys as this gateway last heard them, kept by a watch,
// and the keys this gateway holds under its lease.
type presence struct {
	s     *Store
	mu    sync.Mutex
	who   map[string]string // request id → gateway holding its agent
	held  map[string]string // keys (below the prefix) this gateway wrote under its lease → their values
	quit  chan struct{}
	done  chan struct{}
	ready chan struct{} // closed once who holds a first full read
	// changed is closed, and replaced, whenever who changes (PresenceChanged); under mu.
	changed chan struct{}
	once    sync.Once
}

func newPresence(s *Store) *presence {
	return &presence{s: s, who: map[string]string{}, held: map[string]string{}, quit: make(chan struct{}), done: make(chan struct{}), ready: make(chan struct{}), changed: make(chan struct{})}
}

func (p *presence) start() {
	p.once.Do(func() { go p.watch() })
}

func (p *presence) stop() {
	p.once.Do(func() { close(p.done) }) // never started: nothing to wait for
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
}

// watch keeps who up to date: a full read, then the changes after it; again from a full read
// whenever the watch breaks.
func (p *presence) watch() {
	defer close(p.done)
	ctx, cancel := context.WithCancel(p.s.ctx)
	defer cancel()
	go func() { <-p.quit; cancel() }()
	key := p.s.k(pfxPresence)
	for ctx.Err() == nil {
		rctx, rcancel := p.s.opContext()
		resp, err := p.s.cli.Get(rctx, key, clientv3.WithPrefix())
		rcancel()
		if err != nil {
			p.s.log.Warn("presence: cannot read which gateway holds which agent", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		who := map[string]string{}
		for _, kv := range resp.Kvs {
			who[string(kv.Key[len(key):])] = string(kv.Value)
		}
		p.mu.Lock()
		p.who = who
		p.changedLocked()
		p.mu.Unlock()
		select {
		case <-p.ready:
		default:
			close(p.ready)
		}
		wch := p.s.cli.Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		for w := range wch {
			if w.Err() != nil {
				break
			}
			p.mu.Lock()
			for _, ev := range w.Events {
				id := string(ev.Kv.Key[len(key):])
				if ev.Type == clientv3.EventTypeDelete {
					delete(p.who, id)
				} else {
					p.who[id] = string(ev.Kv.Value)
				}
			}
			p.changedLocked()
			p.mu.Unlock()
		}
	}
}

// changedLocked wakes whoever waits for a change of who.
func (p *presence) changedLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// PresenceChanged is closed at the next change of which gateway holds which agent, as the
// watch hears it (an agent that filed again on the same gateway is a change too): read it,
// then AgentGateway, then wait on it.
func (s *Store) PresenceChanged() <-chan struct{} {
	s.presence.start()
	s.presence.mu.Lock()
	defer s.presence.mu.Unlock()
	return s.presence.changed
}

// regrant writes the keys this gateway holds under its new lease, unless another gateway holds
// them now (an agent that moved meanwhile).
func (p *presence) regrant(lease clientv3.LeaseID) {
	p.mu.Lock()
	held := maps.Clone(p.held)
	p.mu.Unlock()
	for k, v := range held {
		ctx, cancel := p.s.opContext()
		_, err := p.s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(p.s.k(k)), "=", 0)).
			Then(clientv3.OpPut(p.s.k(k), v, clientv3.WithLease(lease))).Commit()
		cancel()
		if err != nil {
			p.s.log.Warn("presence: cannot write again after the lease was lost", "key", k, "err", err)
		}
	}
}

// AgentOnline records that this gateway holds the agent of request id.
func (s *Store) AgentOnline(id string) error {
	lease, err := s.lease()
	if err != nil {
		return err
	}
	ctx, cancel := s.opContext()
	defer cancel()
	if _, err := s.cli.Put(ctx, s.k(pfxPresence+id), s.gateway, clientv3.WithLease(lease)); err != nil {
		return s.unavailable(err)
	}
	s.presence.mu.Lock()
	s.presence.held[pfxPresence+id] = s.gateway
	s.presence.who[id] = s.gateway
	s.presence.mu.Unlock()
	return nil
}

// AgentOffline records that this gateway no longer holds the agent of request id; another
// gateway that holds it now keeps it.
func (s *Store) AgentOffline(id string) error {
	s.presence.mu.Lock()
	delete(s.presence.held, pfxPresence+id)
	if s.presence.who[id] == s.gateway {
		delete(s.presence.who, id)
	}
	s.presence.mu.Unlock()
	ctx, cancel := s.opContext()
	defer cancel()
	k := s.k(pfxPresence + id)
	_, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(k), "=", s.gateway)).Then(clientv3.OpDelete(k)).Commit()
	return s.unavailable(err)
}

// AgentGateway names the gateway holding the agent of request id, as the watch last heard;
// "" when no gateway does. The first call waits for the watch's first read (at most the
// store's timeout), so that a gateway just started does not take every agent for offline.
func (s *Store) AgentGateway(id string) string {
	s.presence.start()
	select {
	case <-s.presence.ready:
	default:
		t := time.NewTimer(s.timeout)
		select {
		case <-s.presence.ready:
		case <-t.C:
		case <-s.ctx.Done():
		}
		t.Stop()
	}
	s.presence.mu.Lock()
	defer s.presence.mu.Unlock()
	return s.presence.who[id]
}

// Online reports whether any gateway of the cluster holds the agent of request id.
func (s *Store) Online(id string) bool { return s.AgentGateway(id) != "" }

// heldSession notes a session key written under the lease, for regrant.
func (s *Store) heldSession(fp string, held bool) {
	s.presence.mu.Lock()
	defer s.presence.mu.Unlock()
	if held {
		s.presence.held[pfxSessions+fp] = s.gateway
	} else {
		delete(s.presence.held, pfxSessions+fp)
	}
}
