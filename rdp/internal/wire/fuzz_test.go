package wire

import (
	"bytes"
	"testing"
)

// fuzzDecoder fuzzes the decoder of one message type, seeded with the real samples of that
// type. Whatever decodes must encode and decode again to the same message.
func fuzzDecoder(f *testing.F, t Type) {
	for _, m := range samples() {
		if m.Type() == t {
			f.Add(m.AppendPayload(nil))
		}
	}
	f.Fuzz(func(tt *testing.T, p []byte) {
		m, err := Decode(t, p)
		if err != nil {
			return
		}
		again, err := Decode(t, m.AppendPayload(nil))
		if err != nil {
			tt.Fatalf("re-decode %+v: %v", m, err)
		}
		if !equal(m, again) {
			tt.Fatalf("re-decode: got %+v, want %+v", again, m)
		}
	})
}

func FuzzHello(f *testing.F)            { fuzzDecoder(f, THello) }
func FuzzClose(f *testing.F)            { fuzzDecoder(f, TClose) }
func FuzzLayout(f *testing.F)           { fuzzDecoder(f, TLayout) }
func FuzzRect(f *testing.F)             { fuzzDecoder(f, TRect) }
func FuzzUpdateEnd(f *testing.F)        { fuzzDecoder(f, TUpdateEnd) }
func FuzzCursorPos(f *testing.F)        { fuzzDecoder(f, TCursorPos) }
func FuzzCursorShape(f *testing.F)      { fuzzDecoder(f, TCursorShape) }
func FuzzStream(f *testing.F)           { fuzzDecoder(f, TStream) }
func FuzzUpdateRequest(f *testing.F)    { fuzzDecoder(f, TUpdateRequest) }
func FuzzUpdateAck(f *testing.F)        { fuzzDecoder(f, TUpdateAck) }
func FuzzQuality(f *testing.F)          { fuzzDecoder(f, TQuality) }
func FuzzKey(f *testing.F)              { fuzzDecoder(f, TKey) }
func FuzzPointer(f *testing.F)          { fuzzDecoder(f, TPointer) }
func FuzzScroll(f *testing.F)           { fuzzDecoder(f, TScroll) }
func FuzzText(f *testing.F)             { fuzzDecoder(f, TText) }
func FuzzClipboardRequest(f *testing.F) { fuzzDecoder(f, TClipboardRequest) }
func FuzzClipboard(f *testing.F)        { fuzzDecoder(f, TClipboard) }

// FuzzReadFrame feeds arbitrary streams to the framing layer and the decoders behind it.
func FuzzReadFrame(f *testing.F) {
	var stream []byte
	for _, m := range samples() {
		stream = Append(stream, m)
	}
	f.Add(stream)
	f.Add([]byte{0, 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		var buf []byte
		for {
			typ, p, nb, err := ReadFrame(r, buf)
			if err != nil {
				return
			}
			if cap(nb) > MaxMessage {
				t.Fatalf("buffer grew to %d", cap(nb))
			}
			buf = nb
			_, _ = Decode(typ, p)
		}
	})
}
