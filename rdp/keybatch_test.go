package rdp

import (
	"bytes"
	"testing"

	"github.com/assistkit/assist/rdp/internal/wire"
)

func TestAskKeyBatches(t *testing.T) {
	viewer := wire.Append(nil, &wire.Hello{Kind: wire.KindFramebuffer, Version: 3, Caps: viewerCaps})
	agent := wire.Append(nil, &wire.Hello{Kind: wire.KindFramebuffer, Version: 3, Caps: viewerCaps | wire.CapKeyBatch})
	if KeyBatches(viewer, agent) {
		t.Fatal("key batches for a viewer that did not ask")
	}
	asked := AskKeyBatches(append(bytes.Clone(viewer), 7)[:len(viewer)])
	if !KeyBatches(asked, agent) {
		t.Fatalf("the viewer's hello %x, asked %x: no key batches", viewer, asked)
	}
	var h wire.Hello
	if err := h.DecodePayload(asked[5:]); err != nil || h.Caps != viewerCaps|wire.CapKeyBatch || h.Version != 3 {
		t.Fatalf("asked hello decodes to %+v, %v", h, err)
	}
	// A version 2 viewer, or one without the stream, is left alone; so are later fields.
	old := wire.Append(nil, &wire.Hello{Kind: wire.KindFramebuffer, Version: 2, Caps: viewerCaps})
	if !bytes.Equal(AskKeyBatches(old), old) {
		t.Error("a version 2 hello was changed")
	}
	later := append(bytes.Clone(viewer), 0xaa, 0xbb)
	later[3] += 2
	if got := AskKeyBatches(later); !bytes.HasSuffix(got, []byte{0xaa, 0xbb}) || !KeyBatches(got, agent) {
		t.Errorf("a hello with later fields became %x", got)
	}
}

// FuzzAskKeyBatches: whatever the first message of a viewer, asking for key batches leaves it
// alone or makes a hello that asks for them.
func FuzzAskKeyBatches(f *testing.F) {
	f.Add(wire.Append(nil, &wire.Hello{Kind: wire.KindFramebuffer, Version: 3, Caps: viewerCaps}))
	f.Add(wire.Append(nil, &wire.Hello{Kind: wire.KindInput, Version: 2}))
	f.Add([]byte{0, 0, 0, 3, 1, 1, 0xff})
	agent := wire.Append(nil, &wire.Hello{Kind: wire.KindFramebuffer, Version: 3, Caps: viewerCaps | wire.CapKeyBatch})
	f.Fuzz(func(t *testing.T, msg []byte) {
		got := AskKeyBatches(msg)
		if !bytes.Equal(got, msg) && !KeyBatches(got, agent) {
			t.Fatalf("%x became %x, which does not ask for key batches", msg, got)
		}
	})
}
