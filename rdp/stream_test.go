package rdp

import (
	"bytes"
	"image"
	"io"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// bufRW is a channel whose reads come from r and whose writes collect in w.
type bufRW struct {
	r io.Reader
	w bytes.Buffer
}

func (b *bufRW) Read(p []byte) (int, error)  { return b.r.Read(p) }
func (b *bufRW) Write(p []byte) (int, error) { return b.w.Write(p) }

// streamOf is what an agent with the stream sends for frames: each batch flushed on its own.
func streamOf(tb testing.TB, batches ...[]byte) []byte {
	tb.Helper()
	rw := &bufRW{r: bytes.NewReader(nil)}
	c := newConn(rw)
	if err := c.startWriteStream(); err != nil {
		tb.Fatal(err)
	}
	for _, b := range batches {
		if err := c.writeRaw(b); err != nil {
			tb.Fatal(err)
		}
	}
	return rw.w.Bytes()
}

// TestStreamRoundTrip: frames written through the stream are read back the same, one batch at a
// time: each batch decodes from what has arrived, without waiting for the next.
func TestStreamRoundTrip(t *testing.T) {
	a, b := desktop(320, 200, 1), desktop(320, 200, 2)
	e := newEncoder(a.Rect, allCaps&^wire.CapZstd)
	e.forceAll(a.Rect)
	first := wire.Append(e.encode(a, a.Rect, nil), &wire.UpdateEnd{Seq: 1})
	e.markChanged(a.Rect)
	second := wire.Append(e.encode(b, a.Rect, nil), &wire.UpdateEnd{Seq: 2})
	stream := streamOf(t, first, second)
	one := streamOf(t, first)
	// Only the first batch has arrived: it must read whole.
	for _, tc := range []struct {
		name   string
		have   []byte
		frames [][]byte
	}{{"first batch alone", one, [][]byte{first}}, {"both", stream, [][]byte{first, second}}} {
		c := newConn(&bufRW{r: bytes.NewReader(tc.have)})
		if err := c.startReadStream(); err != nil {
			t.Fatal(err)
		}
		for _, want := range tc.frames {
			var got []byte
			for len(got) < len(want) {
				typ, p, err := c.readFrame()
				if err != nil {
					t.Fatalf("%s: after %d of %d bytes: %v", tc.name, len(got), len(want), err)
				}
				got = wire.Append(got, &rawMsg{typ, p})
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: frames differ", tc.name)
			}
		}
	}
	if len(stream) >= len(first)+len(second) {
		t.Errorf("stream of %d bytes for %d bytes of frames", len(stream), len(first)+len(second))
	}
	t.Logf("frames %d + %d bytes, as a stream %d + %d", len(first), len(second), len(one), len(stream)-len(one))
}

// rawMsg re-frames a payload as read.
type rawMsg struct {
	t wire.Type
	p []byte
}

func (m *rawMsg) Type() wire.Type               { return m.t }
func (m *rawMsg) AppendPayload(b []byte) []byte { return append(b, m.p...) }
func (m *rawMsg) DecodePayload([]byte) error    { return nil }

// FuzzStreamFrames feeds arbitrary bytes to a viewer's stream reader, framed as stream messages
// and raw: it must fail with an error or yield frames within the limits, never panic or grow
// past them. Seeds are a real agent stream.
func FuzzStreamFrames(f *testing.F) {
	a := desktop(128, 80, 1)
	e := newEncoder(a.Rect, allCaps&^wire.CapZstd)
	e.forceAll(a.Rect)
	upd := wire.Append(e.encode(a, a.Rect, nil), &wire.UpdateEnd{Seq: 1})
	f.Add(streamOf(f, upd, wire.Append(nil, &wire.CursorPos{X: 1, Y: 2})), false)
	f.Add(streamOf(f, upd)[5:], true)
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		if wrap { // data is the zstd stream itself
			data = wire.Append(nil, &wire.Stream{Data: data})
		}
		c := newConn(&bufRW{r: bytes.NewReader(data)})
		if err := c.startReadStream(); err != nil {
			t.Fatal(err)
		}
		for {
			_, p, err := c.readFrame()
			if err != nil {
				return
			}
			if len(p) >= wire.MaxMessage || cap(c.rbuf) > wire.MaxMessage {
				t.Fatalf("frame of %d bytes, buffer %d", len(p), cap(c.rbuf))
			}
		}
	})
}

// TestKeyBatches: a viewer that asks for key batches gets them, keeps a screen equal to the
// agent's throughout (a key batch's repeated layout does not reset it), and a new Decoder that
// starts at a key batch's first message, with nothing before it, ends on the viewer's image.
func TestKeyBatches(t *testing.T) {
	s := newFakeScreen(twoMonitors...)
	s.set(func(img *image.RGBA) { gradient(img, img.Rect) })
	v, sn, _ := serve(t, s, FramebufferOptions{PollInterval: 2 * time.Millisecond, KeyBatchRatio: 1, KeyBatchMin: time.Nanosecond})
	c := newClientCaps(t, v, 2, viewerCaps|wire.CapKeyBatch)
	f := newFont(3)
	for i := range 12 {
		s.set(func(img *image.RGBA) {
			f.drawGlyph(img, 20+i*9, 40, i, white, termBG)
			noise(img, image.Rect(100, 200, 300, 400), uint64(i)) // outweighs a key batch of the gradient
		})
		if u := next(t, c); u.Layout != nil {
			t.Fatalf("update %d reports a layout change: a key batch's layout reached the viewer as one", i)
		}
		untilSame(t, c, s)
	}
	msgs := sn.out.kept()
	var keys []int
	for i, m := range msgs {
		if StartsKeyBatch(m) {
			keys = append(keys, i)
		}
	}
	if len(keys) < 3 {
		t.Fatalf("%d key batches among %d messages, want the stream's start and more", len(keys), len(msgs))
	}
	for _, k := range keys[1:] {
		d, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs[k:] {
			if _, err := d.Apply(m); err != nil {
				t.Fatalf("decoding from the key batch at message %d: %v", k, err)
			}
		}
		if !bytes.Equal(d.Image().Pix, c.Snapshot(c.Bounds()).Pix) {
			t.Errorf("decoding from the key batch at message %d (keys %v, %d messages) ends on another image than the viewer's: %d bytes differ, %d vs screen", k, keys, len(msgs), diffPix(d.Image().Pix, c.Snapshot(c.Bounds()).Pix), diffPix(d.Image().Pix, s.snapshot().Pix))
		}
		d.Close()
	}
}

func diffPix(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n + max(len(a), len(b)) - min(len(a), len(b))
}
