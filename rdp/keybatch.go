package rdp

import (
	"encoding/binary"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Key batches (CapKeyBatch) as a recording gateway sees them: it asks for them in the viewer's
// hello on its way to the agent, learns from the agent's hello whether they come, and finds
// where each starts in the stream as it crossed, without decoding it.

// zstdMagic starts every zstd frame (RFC 8878).
var zstdMagic = [4]byte{0x28, 0xb5, 0x2f, 0xfd}

// StartsKeyBatch reports whether msg, a whole message of an agent that sends key batches
// (KeyBatches), starts one: a stream message whose bytes start a new zstd frame. A reader of the
// agent's messages can start there with a new Decoder.
func StartsKeyBatch(msg []byte) bool {
	return len(msg) >= 9 && wire.Type(msg[4]) == wire.TStream && [4]byte(msg[5:9]) == zstdMagic
}

// hello splits a framebuffer hello message into its version, caps and where caps ends.
func hello(msg []byte) (version, caps uint64, end int, ok bool) {
	t, p, err := splitMessage(msg)
	if err != nil || t != wire.THello || len(p) < 1 || p[0] != wire.KindFramebuffer {
		return 0, 0, 0, false
	}
	version, n := binary.Uvarint(p[1:])
	if n <= 0 {
		return 0, 0, 0, false
	}
	caps, m := binary.Uvarint(p[1+n:])
	if m <= 0 {
		return 0, 0, 0, false
	}
	return version, caps, 5 + 1 + n + m, true
}

// AskKeyBatches returns msg, the viewer's framebuffer hello, asking for key batches as well;
// any other message, or a viewer that does not take the stream, as it is.
func AskKeyBatches(msg []byte) []byte {
	v, caps, end, ok := hello(msg)
	if !ok || v < 3 || caps&wire.CapStream == 0 || caps&wire.CapKeyBatch != 0 {
		return msg
	}
	p := append([]byte{byte(wire.THello), wire.KindFramebuffer}, binary.AppendUvarint(nil, v)...)
	p = binary.AppendUvarint(p, caps|wire.CapKeyBatch)
	p = append(p, msg[end:]...) // the fields of later versions
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

// KeyBatches reports whether an agent that said agentHello sends key batches to a viewer that
// said viewerHello (as the agent got it): both speak version 3, the stream and CapKeyBatch.
func KeyBatches(viewerHello, agentHello []byte) bool {
	const both = wire.CapStream | wire.CapKeyBatch
	vv, vc, _, ok1 := hello(viewerHello)
	av, ac, _, ok2 := hello(agentHello)
	return ok1 && ok2 && vv >= 3 && av >= 3 && vc&both == both && ac&both == both
}
