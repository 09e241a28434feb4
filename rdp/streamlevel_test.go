package rdp

import (
	"context"
	"image"
	"net"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/internal/harness/linkproxy"
)

// TestStreamLevelFollowsLink: the stream goes to zstd's better level once the link measures
// under betterStreamBelow with a round trip of betterStreamRTT or more, back to the default only
// above defaultStreamAbove or under half that round trip, and stays between; never for a peer
// before version 3, nor before the link is measured, nor on a LAN whose rate is only what the
// screen sends.
func TestStreamLevelFollowsLink(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name     string
		restarts bool
		from     zstd.EncoderLevel
		rate     float64 // 0: not measured
		rtt      time.Duration
		want     zstd.EncoderLevel
	}{
		{"not measured", true, zstd.SpeedDefault, 0, 0, zstd.SpeedDefault},
		{"slow link", true, zstd.SpeedDefault, 1e6, 60 * ms, zstd.SpeedBetterCompression},
		{"LAN, a typing screen", true, zstd.SpeedDefault, 30e3, ms, zstd.SpeedDefault},
		{"between, from default", true, zstd.SpeedDefault, 6e6, 60 * ms, zstd.SpeedDefault},
		{"between, from better", true, zstd.SpeedBetterCompression, 6e6, 60 * ms, zstd.SpeedBetterCompression},
		{"round trip between", true, zstd.SpeedBetterCompression, 1e6, 15 * ms, zstd.SpeedBetterCompression},
		{"fast again", true, zstd.SpeedBetterCompression, 20e6, 60 * ms, zstd.SpeedDefault},
		{"near again", true, zstd.SpeedBetterCompression, 1e6, 2 * ms, zstd.SpeedDefault},
		{"version 2 peer", false, zstd.SpeedDefault, 1e6, 60 * ms, zstd.SpeedDefault},
	} {
		s := &fbServer{paced: true, restarts: tc.restarts, level: tc.from}
		if tc.rate > 0 {
			s.pace.addRate(tc.rate, time.Now())
			s.pace.minRTT, s.pace.minRTTAt = tc.rtt, time.Now()
		}
		if got := s.streamLevel(); got != tc.want {
			t.Errorf("%s: level %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestStreamLevelOnSlowLink: a viewer behind a 10 Mbit/s link (the shaping proxy's vpn) gets a
// stream whose agent, once it measured the link, ends the zstd frame and goes on in a new one at
// the better level; the viewer decodes both and holds every screen exactly.
func TestStreamLevelOnSlowLink(t *testing.T) {
	screen := newFakeScreen(Monitor{W: 640, H: 480, Primary: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	vpn, err := linkproxy.ProfileNamed("vpn")
	if err != nil {
		t.Fatal(err)
	}
	link, err := linkproxy.StartShaped(ln.Addr().String(), vpn)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	out := &frameCounter{keep: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		a, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		served <- ServeFramebuffer(ctx, &sniffed{Conn: a, in: &frameCounter{}, out: out}, screen, FramebufferOptions{PollInterval: 2 * time.Millisecond})
	}()
	v, err := net.Dial("tcp", link.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c := newStreamClient(t, v, 2)
	frames := func() int {
		n := 0
		for _, m := range out.kept() {
			if StartsKeyBatch(m) { // a stream message that starts a zstd frame
				n++
			}
		}
		return n
	}
	for i := uint64(0); frames() < 2; i++ {
		if i == 40 {
			t.Fatalf("after 40 changes on a 10 Mbit/s link the stream is still in its first frame")
		}
		scene := desktop(640, 480, i)
		screen.set(func(img *image.RGBA) { copy(img.Pix, scene.Pix) })
		untilSame(t, c, screen)
	}
	for i := uint64(100); i < 103; i++ { // after the new frame
		scene := desktop(640, 480, i)
		screen.set(func(img *image.RGBA) { copy(img.Pix, scene.Pix) })
		untilSame(t, c, screen)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Fatalf("ServeFramebuffer: %v", err)
	}
}
