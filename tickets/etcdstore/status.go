package etcdstore

import (
	"context"
	"slices"
	"strings"

	"github.com/assistkit/assist/tickets"
)

// ClusterStatus is what assistd cluster status shows: the live gateways with how many agents
// and sessions each holds, and etcd's members as each answers for itself.
type ClusterStatus struct {
	Gateways []GatewayStatus `json:"gateways"`
	Members  []MemberStatus  `json:"members"`
}

// GatewayStatus is one live gateway: registered, or holding agents or sessions under its
// lease.
type GatewayStatus struct {
	Name     string `json:"name"`
	Address  string `json:"address,omitempty"` // where the other gateways reach it; empty when it did not register
	Agents   int    `json:"agents"`
	Sessions int    `json:"sessions"`
}

// MemberStatus is one etcd member.
type MemberStatus struct {
	Name      string   `json:"name"`
	Endpoints []string `json:"endpoints"`
	Healthy   bool     `json:"healthy"`
	Leader    bool     `json:"leader"`
	Version   string   `json:"version,omitempty"`
	DBSize    int64    `json:"db_size,omitempty"` // bytes
	Errors    []string `json:"errors,omitempty"`  // the member's alarms, or why it did not answer
}

// Status reads the cluster's gateways at one revision and asks every member for its status.
func (s *Store) Status(ctx context.Context) (ClusterStatus, error) {
	var st ClusterStatus
	byName := map[string]*GatewayStatus{}
	gw := func(name string) *GatewayStatus {
		if byName[name] == nil {
			byName[name] = &GatewayStatus{Name: name}
		}
		return byName[name]
	}
	at, err := s.readUnder(pfxGateways, pfxPresence, pfxSessions)
	if err != nil {
		return st, err
	}
	for k, v := range at.under(pfxGateways) {
		var g tickets.Gateway
		if tickets.DecodeValue(v, &g) == nil {
			gw(k[len(pfxGateways):]).Address = g.Address
		}
	}
	for _, v := range at.under(pfxPresence) {
		gw(string(v)).Agents++
	}
	for _, v := range at.under(pfxSessions) {
		gw(string(v)).Sessions++
	}
	for _, g := range byName {
		st.Gateways = append(st.Gateways, *g)
	}
	slices.SortFunc(st.Gateways, func(a, b GatewayStatus) int { return strings.Compare(a.Name, b.Name) })
	st.Members, err = s.members(ctx)
	return st, err
}

// readUnder reads the keys under each prefix, all at one revision.
func (s *Store) readUnder(pfxs ...string) (*snapshot, error) {
	ctx, cancel := s.opContext()
	resp, err := s.cli.Get(ctx, s.k(keySchemaVersion))
	cancel()
	if err != nil {
		return nil, s.unavailable(err)
	}
	at := &snapshot{keys: map[string][]byte{}}
	for _, pfx := range pfxs {
		err := s.eachAt(pfx, resp.Header.Revision, func(k string, v []byte) error {
			at.keys[k] = v
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return at, nil
}

// members asks each member of the cluster for its status, on its own client address.
func (s *Store) members(ctx context.Context) ([]MemberStatus, error) {
	octx, cancel := s.opContext()
	list, err := s.cli.MemberList(octx)
	cancel()
	if err != nil {
		return nil, s.unavailable(err)
	}
	var out []MemberStatus
	for _, m := range list.Members {
		ms := MemberStatus{Name: m.Name, Endpoints: m.ClientURLs}
		for _, ep := range m.ClientURLs {
			mctx, cancel := context.WithTimeout(ctx, s.timeout)
			resp, err := s.cli.Status(mctx, ep)
			cancel()
			if err != nil {
				ms.Errors = append(ms.Errors, err.Error())
				continue
			}
			ms.Healthy, ms.Leader, ms.Version, ms.DBSize = len(resp.Errors) == 0, resp.Leader == m.ID, resp.Version, resp.DbSize
			ms.Errors = resp.Errors
			break
		}
		out = append(out, ms)
	}
	slices.SortFunc(out, func(a, b MemberStatus) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
