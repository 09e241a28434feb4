package etcdstore

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// WatchClosed yields the id of every request closed on any gateway of the cluster from now on,
// as its open/ key goes, until ctx ends: the gateway that holds the request's agent tells it,
// whichever gateway closed it. A watch that breaks starts again after the last revision it
// heard; one the cluster compacted past starts from a full read instead, and yields every
// request whose agent this gateway holds that is no longer open.
func (s *Store) WatchClosed(ctx context.Context) <-chan string {
	out := make(chan string)
	go func() {
		defer close(out)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(s.ctx, cancel)
		defer stop()
		send := func(id string) bool {
			select {
			case out <- id:
				return true
			case <-ctx.Done():
				return false
			}
		}
		key := s.k(pfxOpen)
		var rev int64 // the last revision heard; 0 until the first full read
		for ctx.Err() == nil {
			if rev == 0 {
				gone, at, err := s.heldNotOpen()
				if err != nil {
					s.log.Warn("closings: cannot read the open requests", "err", err)
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
					continue
				}
				for _, id := range gone {
					if !send(id) {
						return
					}
				}
				rev = at
			}
			wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithFilterPut())
			for w := range wch {
				if err := w.Err(); err != nil {
					if errors.Is(err, rpctypes.ErrCompacted) {
						rev = 0
					}
					break
				}
				for _, ev := range w.Events {
					if ev.Type == clientv3.EventTypeDelete && !send(string(ev.Kv.Key[len(key):])) {
						return
					}
				}
				rev = w.Header.Revision
			}
		}
	}()
	return out
}

// heldNotOpen returns the requests whose agent this gateway holds that are not open, and the
// revision it read them at.
func (s *Store) heldNotOpen() ([]string, int64, error) {
	ctx, cancel := s.opContext()
	defer cancel()
	resp, err := s.cli.Get(ctx, s.k(pfxOpen), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, 0, s.unavailable(err)
	}
	open := make(map[string]bool, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		open[string(kv.Key[len(s.k(pfxOpen)):])] = true
	}
	var gone []string
	s.presence.mu.Lock()
	for k := range s.presence.held {
		if id := k[len(pfxPresence):]; !open[id] {
			gone = append(gone, id)
		}
	}
	s.presence.mu.Unlock()
	return gone, resp.Header.Revision, nil
}
