package authlog

import (
	"net"
	"net/netip"
)

// hostPort renders a remote address as OpenSSH's ssh_remote_ipaddr and
// ssh_remote_port do: the numeric address without brackets (IPv6 too, as
// in "from 2001:db8::1 port 22"), IPv4-mapped IPv6 addresses shown as
// IPv4 (OpenSSH's ipv64_normalise_mapped), and "UNKNOWN" port 65535 for a
// peer that is not an IP socket.
func hostPort(addr net.Addr) (string, int) {
	if a, ok := addr.(*net.TCPAddr); ok && a != nil {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ipString(ip.Unmap().WithZone(a.Zone)), a.Port
		}
	}
	if addr != nil {
		if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
			return ipString(ap.Addr().Unmap()), int(ap.Port())
		}
	}
	return "UNKNOWN", 65535
}

// ipString is netip's text form; the zone is escaped because it is the
// one part of an address that is free text.
func ipString(ip netip.Addr) string {
	if z := ip.Zone(); z != "" {
		return ip.WithZone("").String() + "%" + escapeField(z)
	}
	return ip.String()
}
