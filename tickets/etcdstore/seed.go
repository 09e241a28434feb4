package etcdstore

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/assistkit/assist/tickets"
)

// SeedClosed stores n closed requests with form, as tickets.(*Bolt).CreateRequest and
// UpdateRequest store records without audit events: for benchmarks that need a store of a
// size, written 64 requests to a transaction (two keys each, under etcd's 128 operations)
// rather than one use case each. Not for a store in use: codes are not checked for clashes
// with open requests beyond the keys it writes itself.
func (s *Store) SeedClosed(n int, form tickets.Form) error {
	const perTxn = 64
	seen := map[string]bool{}
	for done := 0; done < n; {
		var ops []clientv3.Op
		for ; done < n && len(ops) < 2*perTxn; done++ {
			now := s.now().UTC()
			code := tickets.NewCode()
			for seen[code] {
				code = tickets.NewCode()
			}
			seen[code] = true
			r := tickets.Request{Form: form, ID: tickets.NewRequestID(now), Code: code, Created: now, Updated: now,
				State: tickets.StateClosed, Closed: now, ClosedBy: "seed", RemoteAddr: "127.0.0.1:1"}
			raw, err := tickets.EncodeValue(r)
			if err != nil {
				return err
			}
			ops = append(ops, clientv3.OpPut(s.k(pfxRequests+r.ID), string(raw)), clientv3.OpPut(s.k(pfxCodes+code), r.ID))
		}
		var err error
		for try := 0; try < 5; try++ { // the same puts again: a busy member may time a commit out
			ctx, cancel := s.opContext()
			_, err = s.cli.Txn(ctx).Then(ops...).Commit()
			cancel()
			if err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("seed %d closed requests: %w", n, s.unavailable(err))
		}
	}
	return nil
}
