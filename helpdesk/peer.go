package helpdesk

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// AuthLog takes the sign-in lines fail2ban reads. The gateway's auth log has these methods
// (*sshd.Server's AuthLog), so web and SSH lines land in one place, each for its own jail.
// addr is the browser's address as the help desk trusts it (port 0 when it came from a proxy).
type AuthLog interface {
	WebAccepted(user string, addr net.Addr)
	WebFailed(user string, invalid bool, addr net.Addr)
	WebThrottled(user string, addr net.Addr)
}

type noAuthLog struct{}

func (noAuthLog) WebAccepted(string, net.Addr)     {}
func (noAuthLog) WebFailed(string, bool, net.Addr) {}
func (noAuthLog) WebThrottled(string, net.Addr)    {}

// peer is the browser's address: the TCP peer, or, when that peer is a trusted proxy, the
// address the proxies name in X-Forwarded-For. Its port is 0 when it came from the header.
func (s *Server) peer(r *http.Request) netip.AddrPort {
	direct, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.AddrPort{}
	}
	direct = netip.AddrPortFrom(direct.Addr().Unmap(), direct.Port())
	if !s.trusted(direct.Addr()) {
		return direct
	}
	return forwardedFor(r.Header.Values("X-Forwarded-For"), s.trusted, direct)
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor reads X-Forwarded-For from the nearest hop back, past the trusted proxies, to
// the first address that is not one: the browser as the last trusted proxy saw it. What lies to
// the left of that was written by the browser itself and is never read, so a client cannot pick
// the address it is throttled, logged and banned under. An unreadable entry ends the walk at
// the last address read (the proxy's own, with no header).
func forwardedFor(headers []string, trusted func(netip.Addr) bool, proxy netip.AddrPort) netip.AddrPort {
	client := proxy
	for i := len(headers) - 1; i >= 0; i-- {
		hops := strings.Split(headers[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, ok := parseHop(hops[j])
			if !ok {
				return client
			}
			client = netip.AddrPortFrom(a, 0)
			if !trusted(a) {
				return client
			}
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, with a port or brackets as some
// proxies write it.
func parseHop(h string) (netip.Addr, bool) {
	h = strings.TrimSpace(h)
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
