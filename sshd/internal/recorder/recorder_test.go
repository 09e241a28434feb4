package recorder

import (
	"bytes"
	"testing"

	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
)

// TestHelloAskedInPieces: the viewer's framebuffer hello reaches the agent asking for key
// batches however the splice cut it, and what follows it passes unchanged.
func TestHelloAskedInPieces(t *testing.T) {
	hello := []byte{0, 0, 0, 4, 1, 1, 3, 0x7f}       // hello: framebuffer, version 3, caps up to ack
	agent := []byte{0, 0, 0, 5, 1, 1, 3, 0xff, 0x02} // and key batches
	after := []byte{0, 0, 0, 2, 24, 9}
	for cut := 1; cut < len(hello)+len(after); cut++ {
		r, err := Start(t.TempDir(), recording.Meta{Session: "s"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		w := r.OpenChannel(protocol.FramebufferChannel).ToAgent(&got)
		in := append(bytes.Clone(hello), after...)
		if n, err := w.Write(in[:cut]); n != cut || err != nil {
			t.Fatalf("cut %d: write %d, %v", cut, n, err)
		}
		w.Write(in[cut:])
		asked := rdp.AskKeyBatches(hello)
		want := append(bytes.Clone(asked), after...)
		if !bytes.Equal(got.Bytes(), want) || !rdp.KeyBatches(asked, agent) {
			t.Fatalf("cut %d: the agent got %x, want %x", cut, got.Bytes(), want)
		}
		r.Close("test")
	}
}
