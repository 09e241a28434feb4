package sshd

import (
	"slices"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// clusterGateways is a cluster's store that lists the gateways alive now (tickets/etcdstore).
type clusterGateways interface {
	Gateway() string
	Gateways() ([]tickets.Gateway, error)
}

// otcGateways is where an .otc minted here sends its technician, in order, and the host keys
// that prove a gateway genuine: this gateway's addresses first (a session's further connections,
// sftp beside the viewer, join it only on the gateway that holds it), then, on a cluster, every
// other live gateway's, so that assist connect goes on to the next when one does not answer.
func (s *Server) otcGateways(reached string) ([]string, []ssh.PublicKey) {
	addrs := slices.Clone(s.cfg.Addresses)
	if len(addrs) == 0 {
		addrs = []string{reached}
	}
	keys := make([]ssh.PublicKey, 0, len(s.cfg.HostKeys))
	for _, k := range s.cfg.HostKeys {
		keys = append(keys, k.PublicKey())
	}
	cl, ok := s.cfg.Store.(clusterGateways)
	if !ok {
		return addrs, keys
	}
	others, err := cl.Gateways()
	if err != nil {
		s.log.Warn("the .otc names this gateway only: the cluster's other gateways could not be read", "err", err)
		return addrs, keys
	}
	for _, g := range others {
		if g.Name == cl.Gateway() {
			continue
		}
		for _, a := range g.OTCAddresses() {
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
		for _, line := range g.HostKeys {
			k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
			if err == nil && !slices.ContainsFunc(keys, func(h ssh.PublicKey) bool { return string(h.Marshal()) == string(k.Marshal()) }) {
				keys = append(keys, k)
			}
		}
	}
	return addrs, keys
}
