package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/connectivity"

	"github.com/assistkit/assist/tickets"
)

// When the cluster does not answer within an operation's timeout and the client holds no
// working connection to any member, the store calls it unreachable: from then on every operation fails at once, saying since when, instead of
// waiting its whole timeout (a live session's file operations each write an audit event), and
// one probe a second asks the cluster again; the first answer ends it. An answer is never made
// up from what the store read before: a use case either reaches a quorum or fails.

// probeEvery is how often an unreachable cluster is asked again.
const probeEvery = 500 * time.Millisecond

// errUnreachable is an operation refused at once because the cluster did not answer.
type errUnreachable struct{ since time.Time }

func (e *errUnreachable) Error() string {
	return fmt.Sprintf("etcd unreachable since %s", e.since.Format(time.TimeOnly))
}

// opContext bounds one operation; while the cluster is unreachable it is cancelled already.
func (s *Store) opContext() (context.Context, context.CancelFunc) {
	if since := s.downSince.Load(); since != nil {
		ctx, cancel := context.WithCancelCause(s.ctx)
		cancel(&errUnreachable{*since})
		return ctx, func() {}
	}
	return context.WithTimeout(s.ctx, s.timeout)
}

// unavailable names an etcd failure as the store being unavailable; a timeout marks the cluster
// unreachable.
func (s *Store) unavailable(err error) error {
	if err == nil {
		return nil
	}
	if since := s.downSince.Load(); since != nil && errors.Is(err, context.Canceled) {
		err = &errUnreachable{*since}
	} else if errors.Is(err, context.DeadlineExceeded) && !s.connected() {
		s.markDown()
	}
	return fmt.Errorf("%w (%s): %w", tickets.ErrUnavailable, s.where, err)
}

// connected reports whether the client holds a working connection to a member: an operation
// that timed out on one is slow (a busy machine, a queue of filings), not a cluster gone, and
// marks nothing.
func (s *Store) connected() bool {
	return s.cli.ActiveConnection().GetState() == connectivity.Ready
}

func (s *Store) markDown() {
	now := s.now()
	if s.downSince.CompareAndSwap(nil, &now) {
		s.log.Warn("etcd unreachable: filings, logins and lists fail until it answers again", "store", s.where)
		go s.probe()
	}
}

// probe asks the cluster every probeEvery until it answers.
func (s *Store) probe() {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
		_, err := s.cli.Get(ctx, s.k(keySchemaVersion))
		cancel()
		if err == nil {
			since := s.downSince.Swap(nil)
			s.log.Info("etcd answers again", "store", s.where, "unreachable_for", s.now().Sub(*since).Round(time.Millisecond))
			return
		}
	}
}
