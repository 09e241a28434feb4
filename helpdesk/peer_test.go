package helpdesk

import (
	"net/netip"
	"strings"
	"testing"
)

func trustedIn(prefixes ...string) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		for _, p := range prefixes {
			if netip.MustParsePrefix(p).Contains(a) {
				return true
			}
		}
		return false
	}
}

func TestForwardedFor(t *testing.T) {
	proxy := netip.MustParseAddrPort("10.0.0.2:41000")
	trusted := trustedIn("10.0.0.0/24", "2001:db8:ffff::/48")
	for _, tt := range []struct {
		name    string
		headers []string
		want    string
	}{
		{"no header", nil, "10.0.0.2:41000"},
		{"one hop", []string{"198.51.100.7"}, "198.51.100.7:0"},
		{"client's own entry ignored", []string{"192.0.2.10, 198.51.100.7"}, "198.51.100.7:0"},
		{"chain of trusted proxies", []string{"198.51.100.7, 10.0.0.9", "10.0.0.5"}, "198.51.100.7:0"},
		{"only proxies", []string{"10.0.0.9, 10.0.0.5"}, "10.0.0.9:0"},
		{"port and brackets", []string{"[2001:db8::7]:443"}, "[2001:db8::7]:0"},
		{"ipv4 with port", []string{"198.51.100.7:5555"}, "198.51.100.7:0"},
		{"mapped", []string{"::ffff:198.51.100.7"}, "198.51.100.7:0"},
		{"zone dropped", []string{"fe80::1%eth0"}, "[fe80::1]:0"},
		{"garbage nearest", []string{"198.51.100.7, unknown"}, "10.0.0.2:41000"},
		{"garbage behind a proxy", []string{"bogus, 10.0.0.9"}, "10.0.0.9:0"},
		{"empty", []string{""}, "10.0.0.2:41000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := forwardedFor(tt.headers, trusted, proxy); got.String() != tt.want {
				t.Errorf("forwardedFor(%q) = %s, want %s", tt.headers, got, tt.want)
			}
		})
	}
}

// FuzzForwardedFor: whatever the headers say, the answer is the proxy or an address read from
// them, and only a trusted proxy's entry lets the walk go further left.
func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"198.51.100.7", "192.0.2.10, 198.51.100.7", "198.51.100.7, 10.0.0.9", "[2001:db8::7]:443", "fe80::1%eth0, unknown", ",,,", "10.0.0.1,10.0.0.2,10.0.0.3"} {
		f.Add(s, "10.0.0.5")
	}
	proxy := netip.MustParseAddrPort("10.0.0.2:41000")
	trusted := trustedIn("10.0.0.0/24")
	f.Fuzz(func(t *testing.T, h1, h2 string) {
		got := forwardedFor([]string{h1, h2}, trusted, proxy)
		if got == proxy {
			return
		}
		if got.Port() != 0 || !got.Addr().IsValid() || got.Addr().Zone() != "" || got.Addr().Is4In6() {
			t.Fatalf("forwardedFor(%q, %q) = %s: not a plain address without port", h1, h2, got)
		}
		// Every entry right of the answer must be a trusted proxy.
		hops := strings.Split(h1+","+h2, ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				t.Fatalf("walked past the unreadable entry %q to %s", hops[i], got)
			}
			if a == got.Addr() {
				return
			}
			if !trusted(a) {
				t.Fatalf("walked past the untrusted %s to %s", a, got)
			}
		}
		t.Fatalf("%s is in neither header %q, %q", got, h1, h2)
	})
}
