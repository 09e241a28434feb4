package main

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// TestGatewayAddresses: --gateway takes several addresses, tried in the order given; without
// it the stamp's addresses serve, all of them; a malformed address is a usage error naming it.
func TestGatewayAddresses(t *testing.T) {
	key := testenv.NewKey(t)
	keyLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key.PublicKey())))
	stamp := &tickets.Stamp{HelpDesk: "Example IT", Gateways: []string{"gw1.example.org:2222", "gw2.example.org:2222"}, HostKey: key.PublicKey()}
	cases := []struct {
		flag  string
		stamp *tickets.Stamp
		want  []string
		err   string
	}{
		{"a.example.org:2222, b.example.org:2222", nil, []string{"a.example.org:2222", "b.example.org:2222"}, ""},
		{"", stamp, stamp.Gateways, ""},
		{"a.example.org:2222", stamp, []string{"a.example.org:2222"}, ""},
		{"a.example.org:2222,help.example.org", nil, nil, `--gateway "help.example.org": want HOST:PORT`},
		{"", nil, nil, "--gateway and --gateway-key are required"},
	}
	for _, c := range cases {
		o := requestOptions{gateway: c.flag, gatewayKey: keyLine}
		_, addrs, _, err := o.gatewayOf(c.stamp)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("--gateway %q: error %v, want %q", c.flag, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("--gateway %q: %v", c.flag, err)
		case !slices.Equal(addrs, c.want):
			t.Errorf("--gateway %q: addresses %q, want %q", c.flag, addrs, c.want)
		}
	}
}
