package agent

import (
	"testing"
	"unicode"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// FuzzConsentAsk feeds the agent's decoding of a session@ channel's extra data: whatever a
// gateway sends, the names that reach the person's terminal are printable, hold no
// bidirectional controls and stay short.
func FuzzConsentAsk(f *testing.F) {
	for _, a := range []protocol.ConsentAsk{
		{SessionID: "01J8Z", RequestCode: "K7QH-4ZPD", Technician: "alice", FullName: "Alice Tester"},
		{Technician: "mallory\x1b[2J\x1b]0;pwned\x07", FullName: "\u202eevil\u202c <b>"},
		{Technician: string(make([]byte, 300)), TimeoutMillis: 120000},
	} {
		f.Add(protocol.Marshal(a, protocol.Version))
	}
	f.Add([]byte{0, 0, 0, 200})
	f.Fuzz(func(t *testing.T, data []byte) {
		var ask protocol.ConsentAsk
		if protocol.Unmarshal(data, &ask, protocol.Version) != nil {
			return
		}
		for _, name := range []string{cleanName(ask.Technician), cleanName(ask.FullName)} {
			if len(name) > tickets.MaxNameLen {
				t.Fatalf("name of %d bytes reaches the person", len(name))
			}
			for _, r := range name {
				if !unicode.IsPrint(r) && r != ' ' || unicode.Is(unicode.Bidi_Control, r) {
					t.Fatalf("name %q carries %U", name, r)
				}
			}
		}
	})
}
