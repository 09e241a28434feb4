package sshd

import (
	"testing"
	"testing/quick"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
)

// TestRelayOpenRoundTrip: what a gateway sends is what the other decodes, for every type relayed.
func TestRelayOpenRoundTrip(t *testing.T) {
	for typ := range relayed {
		f := func(fp, id string, data []byte) bool {
			if fp == "" || id == "" || len(fp) > maxRefField || len(id) > maxRefField || len(data) > maxRelayData {
				return true
			}
			in := relayOpen{Fingerprint: fp, RequestID: id, Type: typ, Data: data}
			out, err := decodeRelayOpen(ssh.Marshal(in))
			return err == nil && out.Fingerprint == fp && out.RequestID == id && out.Type == typ && string(out.Data) == string(data)
		}
		if err := quick.Check(f, nil); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
}

func TestRelayOpenRefusesWhatIsNotRelayed(t *testing.T) {
	for _, m := range []relayOpen{
		{Fingerprint: "SHA256:x", RequestID: "r", Type: "direct-tcpip"},
		{Fingerprint: "SHA256:x", RequestID: "r", Type: relayChannel},
		{Fingerprint: "", RequestID: "r", Type: protocol.SessionChannel},
		{Fingerprint: "SHA256:x", RequestID: "", Type: protocol.SessionChannel},
		{Fingerprint: "SHA256:x", RequestID: "r", Type: protocol.SessionChannel, Data: make([]byte, maxRelayData+1)},
	} {
		if _, err := decodeRelayOpen(ssh.Marshal(m)); err == nil {
			t.Errorf("%+v decoded, want refused", m)
		}
	}
	if _, err := decodeAgentHere(ssh.Marshal(agentHere{Version: 0})); err == nil {
		t.Error("agent version 0 decoded, want refused")
	}
}

// FuzzPeerMessages: what another gateway sends decodes or is refused, never panics, and what
// decodes stays within the bounds.
func FuzzPeerMessages(f *testing.F) {
	f.Add(ssh.Marshal(relayOpen{Fingerprint: "SHA256:Ie5VbwBV63ZaK2tKjswBEcdBBGUHlsygmvhE+vXCdi4", RequestID: "01JABCDEF",
		Type: protocol.FramebufferChannel, Data: protocol.Marshal(protocol.ChannelRef{SessionID: "01JXYZ"}, protocol.Version)}))
	f.Add(ssh.Marshal(relayRef{Fingerprint: "SHA256:x", RequestID: "r"}))
	f.Add(ssh.Marshal(agentHere{Version: protocol.Version, Connection: "9f86d081884c7d659a2feaa0c55ad015"}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeRelayOpen(b); err == nil && (!relayed[m.Type] || len(m.Data) > maxRelayData || len(m.Fingerprint) > maxRefField) {
			t.Fatalf("decoded out of bounds: %+v", m)
		}
		if m, err := decodeRelayRef(b); err == nil && (m.Fingerprint == "" || m.RequestID == "") {
			t.Fatalf("decoded an empty reference: %+v", m)
		}
		decodeAgentHere(b)
	})
}
