package sshd_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"io"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/painted"
	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/sshd/internal/recorder"
	"github.com/assistkit/assist/viewer"
)

// tapped passes a framebuffer channel's bytes through a recorder's tap, as the splice does.
type tapped struct {
	net.Conn
	w io.Writer
}

func (c tapped) Write(p []byte) (int, error) {
	c.w.Write(p)
	return c.Conn.Write(p)
}

// withoutKeyBatches is an agent's first bytes (its hello) with the key-batch cap taken out, as an
// agent from before key batches says it.
type withoutKeyBatches struct {
	w    io.Writer
	done bool
}

func (h *withoutKeyBatches) Write(p []byte) (int, error) {
	if h.done {
		return h.w.Write(p)
	}
	h.done = true
	n := 4 + int(binary.BigEndian.Uint32(p))
	v, k1 := binary.Uvarint(p[6:])
	caps, k2 := binary.Uvarint(p[6+k1:])
	body := append([]byte{p[4], p[5]}, binary.AppendUvarint(nil, v)...)
	body = binary.AppendUvarint(body, caps&^(1<<8))
	body = append(body, p[6+k1+k2:n]...)
	h.w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	return h.w.Write(p[n:])
}

// TestRecordingAnAgentWithoutKeyBatches: an agent from before key batches is recorded as before
// them: the recorder opens its stream and makes its own key frames, and seeking in the
// recording lands on the screens the viewer had.
func TestRecordingAnAgentWithoutKeyBatches(t *testing.T) {
	dir := t.TempDir()
	var clock atomic.Int64
	rec, err := recorder.Start(dir, recording.Meta{Session: "0123456789abcdef"}, recorder.Options{
		KeyFrameRatio: 1, KeyFrameMin: time.Nanosecond, Clock: func() time.Duration { return time.Duration(clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	tap := rec.OpenChannel(protocol.FramebufferChannel)
	a, v := net.Pipe()
	screen := painted.New(320, 200)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- rdp.ServeFramebuffer(ctx, tapped{a, &withoutKeyBatches{w: tap.ToTech(io.Discard)}}, screen, rdp.FramebufferOptions{PollInterval: 5 * time.Millisecond})
	}()
	c, err := rdp.NewFramebufferClient(tapped{v, tap.ToAgent(io.Discard)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var shown []*image.RGBA
	for k := range 8 {
		clock.Store(int64(time.Duration(k) * time.Second))
		want := screen.Paint(k)
		for !bytes.Equal(c.Snapshot(c.Bounds()).Pix, want.Pix) {
			if _, err := c.Next(ctx); err != nil {
				t.Fatal(err)
			}
		}
		shown = append(shown, want)
	}
	c.Close()
	cancel()
	v.Close()
	<-served
	tap.Close()
	if _, err := rec.Close("test"); err != nil {
		t.Fatal(err)
	}
	path := recorder.Path(dir, "0123456789abcdef")
	r, f := openRecording(t, path)
	keyFrames, stream := 0, 0
	for i := range r.Chunks {
		r.Records(i, func(rec recording.Record) error {
			switch {
			case rec.Kind == recording.KindKeyFrame:
				keyFrames++
			case rec.Kind == recording.KindScreen && rdp.MessageName(rec.Data) == "stream":
				stream++
			}
			return nil
		})
	}
	f.Close()
	if keyFrames == 0 || stream != 0 {
		t.Fatalf("%d key-frame records and %d stream messages: want the recorder's key frames and the stream opened", keyFrames, stream)
	}
	p, err := viewer.OpenPlayer(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, k := range []int{7, 0, 4, 2, 6, 1, 5, 3} {
		if err := p.Seek(time.Duration(k) * time.Second); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Image().Pix, shown[k].Pix) {
			t.Fatalf("at %d s the played screen is not the one the viewer had (%d bytes differ)", k, diffBytes(p.Image().Pix, shown[k].Pix))
		}
	}
}
