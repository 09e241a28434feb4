package sftppacket

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// writes records every Write it gets.
type writes struct{ got [][]byte }

func (w *writes) Write(b []byte) (int, error) {
	w.got = append(w.got, append([]byte(nil), b...))
	return len(b), nil
}

// lengthOf is the 4-byte length that starts a packet with body.
func lengthOf(body []byte) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(len(body)))
}

// FuzzPacketWriter: whatever way a stream of packets is cut into writes, each packet comes out
// in exactly one Write (or, for an oversized one, in order), and not a byte changes.
func FuzzPacketWriter(f *testing.F) {
	f.Add([]byte("hello"), []byte("world, a longer body"), uint8(3), uint8(13))
	f.Add([]byte{}, []byte{1}, uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, a, b []byte, cut1, cut2 uint8) {
		pa, pb := append(lengthOf(a), a...), append(lengthOf(b), b...)
		stream := append(append([]byte(nil), pa...), pb...)
		w := &writes{}
		p := &writer{w: w}
		for _, part := range split(stream, int(cut1), int(cut2)) {
			if n, err := p.Write(part); n != len(part) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if len(w.got) != 2 || !bytes.Equal(w.got[0], pa) || !bytes.Equal(w.got[1], pb) {
			t.Fatalf("writes %q, want %q then %q", w.got, pa, pb)
		}
	})
}

func split(b []byte, cuts ...int) [][]byte {
	var out [][]byte
	for _, c := range cuts {
		c = min(c, len(b))
		out = append(out, b[:c])
		b = b[c:]
	}
	return append(out, b)
}

func TestPacketWriterPassesOversizedPacketsThrough(t *testing.T) {
	body := make([]byte, maxBuffered+10)
	stream := append(lengthOf(body), body...)
	stream = append(stream, append(lengthOf([]byte("next")), "next"...)...)
	w := &writes{}
	p := &writer{w: w}
	p.Write(stream[:100])
	p.Write(stream[100:])
	if got := bytes.Join(w.got, nil); !bytes.Equal(got, stream) {
		t.Fatal("oversized packet changed on the way through")
	}
	if last := w.got[len(w.got)-1]; string(last) != "\x00\x00\x00\x04next" {
		t.Fatalf("packet after the oversized one written as %q, want whole", last)
	}
}
