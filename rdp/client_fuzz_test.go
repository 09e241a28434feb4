package rdp

import (
	"bytes"
	"context"
	"image"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// newTestClient is a FramebufferClient with a layout and no channel, for feeding it updates
// directly.
func newTestClient(tb testing.TB, monitors []Monitor) *FramebufferClient {
	tb.Helper()
	return testClient(newTestDecoder(tb), monitors)
}

func newTestDecoder(tb testing.TB) *zstd.Decoder {
	tb.Helper()
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(wire.MaxPixelData))
	if err != nil {
		tb.Fatal(err)
	}
	return dec
}

// testClient is newTestClient with the zstd decoder given.
func testClient(dec *zstd.Decoder, monitors []Monitor) *FramebufferClient {
	c := &FramebufferClient{c: newConn(nopRW{}), inFlight: 1, dec: dec,
		updates: make(chan *received, 1), done: make(chan struct{}), drained: make(chan struct{}, 1), closed: make(chan struct{})}
	l := &wire.Layout{Format: wire.FormatRGB24}
	for _, m := range monitors {
		l.Monitors = append(l.Monitors, wire.Monitor{X: int32(m.X), Y: int32(m.Y), W: uint16(m.W), H: uint16(m.H)})
	}
	c.setLayout(l)
	return c
}

// splitFrames turns a stream of framed messages into what the read loop hands to Next.
func splitFrames(tb testing.TB, stream []byte) *received {
	r := &received{}
	rd := bytes.NewReader(stream)
	for {
		t, p, _, err := wire.ReadFrame(rd, nil)
		if err != nil {
			return r
		}
		r.add(t, p)
	}
}

// FuzzApplyUpdate feeds arbitrary updates to the viewer's decoder: it must reject what is bad
// with an error, never panic or write outside its image. Seeds are real encoder output.
func FuzzApplyUpdate(f *testing.F) {
	base := desktop(128, 80, 1)
	e := newEncoder(base.Rect, allCaps)
	e.forceAll(base.Rect)
	f.Add(e.encode(base, base.Rect, nil))
	next := cloneRGBA(base)
	copyRect(next, image.Rect(0, 0, 128, 60), image.Pt(0, 20))
	noise(next, image.Rect(10, 10, 30, 30), 1)
	e.markChanged(base.Rect)
	f.Add(e.encode(next, base.Rect, nil))
	lossy := newEncoder(base.Rect, allCaps|wire.CapJPEG)
	lossy.policy = policyFor(QualityFast, 0)
	lossy.forceAll(base.Rect)
	photoFrame := cloneRGBA(base)
	photo(photoFrame, image.Rect(0, 0, 128, 64), 1)
	f.Add(lossy.encode(photoFrame, base.Rect, nil))
	var cursor []byte
	cursor = wire.Append(cursor, &wire.CursorShape{W: 2, H: 1, HotX: 1, Enc: wire.EncRaw, Data: make([]byte, 8)})
	cursor = wire.Append(cursor, &wire.CursorPos{X: 5, Y: 6})
	cursor = wire.Append(cursor, &wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: 10, H: 10}}})
	f.Add(cursor)
	// A client of its own for every input: one that an earlier input broke closes its channel,
	// and its next Next would fail before it takes the update fed to it.
	dec := newTestDecoder(f)
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := splitFrames(t, stream)
		var work fuzzWork
		for _, m := range r.msgs {
			work.add(m.t, r.payload(m))
		}
		if work.tooMuch {
			t.Skip("too many pixels to fuzz")
		}
		c := testClient(dec, []Monitor{{W: 128, H: 80}})
		c.updates <- r
		c.outstanding = c.inFlight
		_, _ = c.Next(context.Background())
	})
}

// nopRW is a channel that swallows writes (the close a bad update causes) and has nothing to read.
type nopRW struct{}

func (nopRW) Read([]byte) (int, error)    { return 0, io.EOF }
func (nopRW) Write(p []byte) (int, error) { return len(p), nil }
