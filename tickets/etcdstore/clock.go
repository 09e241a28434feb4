package etcdstore

import (
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// A one-time credential may start its session until it expires. Each gateway compares the
// expiry with its own clock (tickets.CredentialRule), and a gateway whose clock is behind would
// let an expired credential in. So the cluster counts the validity too: IssueCredential writes
// may_start/<fingerprint> under a lease of the credential's validity (expires − issued, both on
// the issuing gateway's clock), which etcd's leader counts down on its own monotonic clock, and
// ClaimCredential starts a session only while that key is there. A login needs both: the
// claiming gateway's clock, and the cluster's count. Neither the issuing nor the claiming
// gateway's wall clock alone can lengthen the window.
//
// etcd counts a lease's remaining time again from its full TTL after a change of leader unless
// its members checkpoint leases (3.5: --experimental-enable-lease-checkpoint; 3.6:
// --feature-gates=LeaseCheckpoint=true, every 5 minutes): a leader change can lengthen the
// cluster's count, never shorten it, and the claiming gateway's own clock still bounds it.

// errExpiredOnCluster is a claim after the cluster's count ran out, in the words
// tickets.CredentialRule uses.
var errExpiredOnCluster = errors.New("credential expired")

// validity grants the lease that may_start/ keys of a credential valid from issued until
// expires are written under: whole seconds, rounded up.
func (s *Store) validity(issued, expires time.Time) (clientv3.LeaseID, error) {
	d := expires.Sub(issued)
	if d <= 0 {
		return 0, fmt.Errorf("issue credential: it expires (%s) before it is issued (%s)", expires.Format(time.RFC3339), issued.Format(time.RFC3339))
	}
	ttl := int64((d + time.Second - 1) / time.Second)
	ctx, cancel := s.opContext()
	defer cancel()
	g, err := s.cli.Grant(ctx, ttl)
	if err != nil {
		return 0, s.unavailable(fmt.Errorf("grant a credential's validity: %w", err))
	}
	return g.ID, nil
}
