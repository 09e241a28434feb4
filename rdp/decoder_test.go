package rdp

import (
	"bytes"
	"image"
	"testing"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// TestDecoderFollowsTheStream feeds what the encoder sends, cut into arbitrary pieces, through a
// Framer into a Decoder, and checks after every update that the decoder's image is the frame;
// a key frame taken then brings a fresh decoder to the same image and cursor.
func TestDecoderFollowsTheStream(t *testing.T) {
	const w, h = 700, 500
	before, after, _ := terminalScene()
	crop := func(img *image.RGBA) *image.RGBA {
		c := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			copy(rowBytes(c, 0, w, y), rowBytes(img, 200, 200+w, y+80))
		}
		return c
	}
	frames := []*image.RGBA{desktop(w, h, 1), desktop(w, h, 2), crop(before), crop(after)}
	noisy := desktop(w, h, 3)
	noise(noisy, image.Rect(100, 100, 400, 300), 4)
	frames = append(frames, noisy)

	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var f Framer
	var failed error
	emit := func(msg []byte) {
		if _, err := d.Apply(msg); err != nil && failed == nil {
			failed = err
		}
	}
	stream := wire.Append(nil, &wire.Hello{Kind: wire.KindFramebuffer, Version: 1})
	stream = wire.Append(stream, &wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: w, H: h, Primary: true}}})
	e := newEncoder(image.Rect(0, 0, w, h), allCaps)
	e.forceAll(e.bounds)
	for i, img := range frames {
		e.markChanged(img.Rect)
		stream = e.encode(img, img.Rect, stream)
		stream = wire.Append(stream, &wire.CursorPos{X: int32(i), Y: 7})
		stream = wire.Append(stream, &wire.UpdateEnd{Seq: uint64(i + 1)})
		for len(stream) > 0 { // pieces of 1000 bytes, as an SSH channel might deliver them
			n := min(len(stream), 1000)
			if err := f.Feed(stream[:n], emit); err != nil {
				t.Fatal(err)
			}
			stream = stream[n:]
		}
		if failed != nil {
			t.Fatalf("frame %d: %v", i, failed)
		}
		if f.Pending() != 0 || d.Updates() != uint64(i+1) {
			t.Fatalf("frame %d: %d bytes pending, %d updates applied", i, f.Pending(), d.Updates())
		}
		if !bytes.Equal(d.Image().Pix, img.Pix) {
			t.Fatalf("frame %d: the decoder's image differs from the frame", i)
		}
		fresh, _ := NewDecoder()
		if err := f.Feed(d.AppendKeyFrame(nil), func(msg []byte) {
			if _, err := fresh.Apply(msg); err != nil {
				t.Fatal(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh.Image().Pix, img.Pix) || fresh.Cursor().X != i || fresh.Bounds() != d.Bounds() {
			t.Fatalf("frame %d: a key frame does not reproduce the decoder's state", i)
		}
		fresh.Close()
	}
}

func TestFramerRefusesImpossibleLengths(t *testing.T) {
	var f Framer
	for _, b := range [][]byte{{0, 0, 0, 0, 1}, {0xff, 0, 0, 0, 1}} {
		f = Framer{}
		if err := f.Feed(b, func([]byte) {}); err == nil {
			t.Errorf("% x: no error", b)
		}
	}
	d, _ := NewDecoder()
	if _, err := d.Apply(wire.Append(nil, &wire.Key{Keysym: 0x61, Down: true})); err == nil {
		t.Error("a key message applied to the framebuffer")
	}
	if _, err := d.Apply(wire.Append(nil, &wire.Rect{W: 1, H: 1, Enc: wire.EncSolid, Data: []byte{1, 2, 3}})); err == nil {
		t.Error("a rectangle before any layout applied")
	}
}

// TestApplyAllEqualsApply catches a decoder up on many updates at once, and checks it ends with
// the image and cursor of one that applied them one by one, though it decoded fewer.
func TestApplyAllEqualsApply(t *testing.T) {
	const w, h = 700, 500
	before, after, _ := terminalScene()
	crop := func(img *image.RGBA, dy int) *image.RGBA {
		c := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			copy(rowBytes(c, 0, w, y), rowBytes(img, 200, 200+w, y+80+dy))
		}
		return c
	}
	frames := []*image.RGBA{desktop(w, h, 1), desktop(w, h, 2), crop(before, 0), crop(after, 0), crop(after, 3), desktop(w, h, 3)}
	var msgs [][]byte
	var f Framer
	stream := wire.Append(nil, &wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: w, H: h, Primary: true}}})
	e := newEncoder(image.Rect(0, 0, w, h), allCaps)
	e.forceAll(e.bounds)
	for i, img := range frames {
		if i == 2 { // a layout in the middle clears the screen: what came before never shows
			stream = wire.Append(stream, &wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: w, H: h, Primary: true}}})
			e.reset(e.bounds)
			e.forceAll(e.bounds)
		}
		e.markChanged(img.Rect)
		stream = e.encode(img, img.Rect, stream)
		stream = wire.Append(stream, &wire.UpdateEnd{Seq: uint64(i + 1)})
	}
	f.Feed(stream, func(m []byte) { msgs = append(msgs, bytes.Clone(m)) })
	one, _ := NewDecoder()
	for _, m := range msgs {
		if _, err := one.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := NewDecoder()
	keep, err := all.survivors(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if err := all.ApplyAll(msgs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(all.Image().Pix, one.Image().Pix) || !bytes.Equal(all.Image().Pix, frames[len(frames)-1].Pix) {
		t.Fatal("ApplyAll's image differs from applying each message")
	}
	if all.Updates() != one.Updates() {
		t.Errorf("ApplyAll counted %d updates, Apply %d", all.Updates(), one.Updates())
	}
	skipped := 0
	for _, k := range keep {
		if !k {
			skipped++
		}
	}
	t.Logf("%d of %d messages skipped", skipped, len(msgs))
	if skipped == 0 {
		t.Error("ApplyAll skipped nothing")
	}
}

// FuzzDecoder splits arbitrary bytes into messages with a Framer and applies them two ways:
// whenever applying them one by one succeeds, ApplyAll must succeed with the same image. Seeds:
// an encoded stream of desktop frames.
func FuzzDecoder(f *testing.F) {
	const w, h = 96, 64
	stream := wire.Append(nil, &wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: w, H: h, Primary: true}}})
	e := newEncoder(image.Rect(0, 0, w, h), allCaps)
	e.forceAll(e.bounds)
	for i := 1; i <= 3; i++ {
		img := desktop(w, h, uint64(i))
		e.markChanged(img.Rect)
		stream = e.encode(img, img.Rect, stream)
		stream = wire.Append(stream, &wire.UpdateEnd{Seq: uint64(i)})
	}
	f.Add(stream, uint16(7))
	f.Fuzz(func(t *testing.T, b []byte, piece uint16) {
		var msgs [][]byte
		var fr Framer
		for len(b) > 0 {
			n := min(len(b), int(piece)+1)
			if fr.Feed(b[:n], func(m []byte) { msgs = append(msgs, bytes.Clone(m)) }) != nil {
				break
			}
			b = b[n:]
		}
		var work fuzzWork
		for _, m := range msgs {
			work.addMessage(m)
		}
		if work.tooMuch {
			t.Skip("too many pixels to fuzz")
		}
		one, _ := NewDecoder()
		defer one.Close()
		for _, m := range msgs {
			if _, err := one.Apply(m); err != nil {
				return
			}
		}
		all, _ := NewDecoder()
		defer all.Close()
		if err := all.ApplyAll(msgs); err != nil {
			t.Fatalf("ApplyAll failed where Apply did not: %v", err)
		}
		if !bytes.Equal(all.Image().Pix, one.Image().Pix) || all.Updates() != one.Updates() {
			t.Fatal("ApplyAll's image differs from Apply's")
		}
	})
}

// TestDecoderFollowsTheZstdStream: a Decoder follows an agent that speaks the framebuffer
// stream (version 2), fed its stream messages in pieces as they crossed: each update is applied
// whole once its last stream message has been applied.
func TestDecoderFollowsTheZstdStream(t *testing.T) {
	const w, h = 700, 500
	frames := []*image.RGBA{desktop(w, h, 1), desktop(w, h, 2), desktop(w, h, 3)}
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rw := &bufRW{r: bytes.NewReader(nil)}
	agent := newConn(rw)
	agent.write(&wire.Hello{Kind: wire.KindFramebuffer, Version: wire.Version, Caps: wire.CapStream})
	if err := agent.startWriteStream(); err != nil {
		t.Fatal(err)
	}
	agent.write(&wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: w, H: h, Primary: true}}})
	e := newEncoder(image.Rect(0, 0, w, h), allCaps&^wire.CapZstd)
	e.forceAll(e.bounds)
	var f Framer
	for i, img := range frames {
		e.markChanged(img.Rect)
		batch := wire.Append(e.encode(img, img.Rect, nil), &wire.UpdateEnd{Seq: uint64(i + 1)})
		if err := agent.writeRaw(batch); err != nil {
			t.Fatal(err)
		}
		ends := 0
		stream := rw.w.Bytes()
		for len(stream) > 0 {
			n := min(len(stream), 1000)
			if err := f.Feed(stream[:n], func(msg []byte) {
				end, err := d.Apply(msg)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if end {
					ends++
				}
			}); err != nil {
				t.Fatal(err)
			}
			stream = stream[n:]
		}
		rw.w.Reset()
		if ends != 1 || d.Updates() != uint64(i+1) {
			t.Fatalf("frame %d: %d ends reported, %d updates applied", i, ends, d.Updates())
		}
		if !bytes.Equal(d.Image().Pix, img.Pix) {
			t.Fatalf("frame %d: the decoder's image differs from the frame", i)
		}
	}
}
