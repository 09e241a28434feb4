package tickets

import (
	"encoding/binary"
	"fmt"

	"github.com/assistkit/assist/protocol"
)

// maxFormSize bounds a protocol.RequestGlobal payload; a form within Clean's bounds is under 3 KiB.
const maxFormSize = 8 << 10

// The form travels as the payload of protocol.RequestGlobal: the agent's protocol version as a
// uint32, then Form's fields for that version in their order (protocol.Marshal of the Form
// itself), so the form needs no second type for the wire. TestFormWireLayout pins the layout.

// DecodeForm decodes a protocol.RequestGlobal payload into a cleaned Form and the protocol
// version the agent speaks, refusing anything malformed, oversized or of a version this build
// does not speak.
func DecodeForm(payload []byte) (Form, uint32, error) {
	if len(payload) > maxFormSize {
		return Form{}, 0, fmt.Errorf("request form: %d bytes, at most 8 KiB allowed", len(payload))
	}
	if len(payload) < 4 {
		return Form{}, 0, fmt.Errorf("request form: malformed: %d bytes, no version", len(payload))
	}
	// The version comes first and is read on its own: a newer agent's form may have fields this
	// build cannot decode, and it should hear about the version, not "malformed".
	v := binary.BigEndian.Uint32(payload)
	if v < protocol.MinVersion || v > protocol.Version {
		return Form{}, 0, fmt.Errorf("request form: protocol version %d, this gateway speaks %d to %d", v, protocol.MinVersion, protocol.Version)
	}
	var f Form
	if err := protocol.Unmarshal(payload[4:], &f, v); err != nil {
		return Form{}, 0, fmt.Errorf("request form: malformed: %w", err)
	}
	f, err := f.Clean()
	return f, v, err
}

// EncodeForm is DecodeForm's counterpart, for agents: the form at this build's version.
func EncodeForm(f Form) []byte {
	return append(binary.BigEndian.AppendUint32(nil, protocol.Version), protocol.Marshal(f, protocol.Version)...)
}
