package tickets

import (
	"net"
	"net/netip"
)

// Gateway is one gateway of a cluster as it registers itself in a shared store, so that the
// others can reach it: a technician's session whose agent is connected to another gateway goes
// there over SSH (sshd's peering), checked against these host keys both ways.
type Gateway struct {
	Name     string   `json:"name"`
	Address  string   `json:"address"`   // host:port the other gateways dial
	HostKeys []string `json:"host_keys"` // authorized_keys lines of its host keys
	// Addresses are where technicians reach it (assistd serve --advertise), written into the
	// .otc files every gateway of the cluster mints; empty: Address, unless that is 0.0.0.0 or ::.
	Addresses []string `json:"addresses,omitempty"`
}

// OTCAddresses are the addresses an .otc lists for this gateway.
func (g Gateway) OTCAddresses() []string {
	if len(g.Addresses) > 0 {
		return g.Addresses
	}
	if host, _, err := net.SplitHostPort(g.Address); err == nil && host != "" {
		if ip, err := netip.ParseAddr(host); err != nil || !ip.IsUnspecified() {
			return []string{g.Address}
		}
	}
	return nil
}
