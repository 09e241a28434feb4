package rdp

import (
	"context"
	"image"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/workload"
	"github.com/assistkit/assist/rdp/internal/wire"
)

// deskScenes draws the end-to-end bench's `full` scenes first, first+1, … (n of them).
func deskScenes(tb testing.TB, w, h, first, n int) []*image.RGBA {
	tb.Helper()
	return deskScenesEvery(tb, w, h, first, 1, n)
}

// deskScenesEvery draws the end-to-end bench's `full` scenes first, first+step, … (n of them).
func deskScenesEvery(tb testing.TB, w, h, first, step, n int) []*image.RGBA {
	tb.Helper()
	sc, err := workload.NewScenes(w, h)
	if err != nil {
		tb.Fatal(err)
	}
	frames := make([]*image.RGBA, n)
	for i := range frames {
		frames[i] = image.NewRGBA(image.Rect(0, 0, w, h))
		sc.Draw(frames[i], first+i*step)
	}
	return frames
}

// TestDeskScenesRoundTrip sends the bench's desktop scenes, one after another and with scenes
// skipped as a slow link or a busy agent skips them (windows moved and documents scrolled on
// further), through the encoder and the viewer's decoder: the viewer holds each scene exactly,
// and within a layout the moved windows go as copies however many scenes were skipped, since
// the motion range grows with the time since the update before.
func TestDeskScenesRoundTrip(t *testing.T) {
	const w, h = 1920, 1080
	frames := deskScenes(t, w, h, 0, 32)
	r := newLossyRig(t, w, h, lossyPolicy{})
	for _, step := range []struct {
		scene  int
		after  time.Duration
		copies bool // the scene is in the layout of the one before
	}{{0, 0, false}, {1, 16 * time.Millisecond, true}, {2, 16 * time.Millisecond, true},
		{4, 33 * time.Millisecond, true}, {10, 100 * time.Millisecond, true},
		{22, 200 * time.Millisecond, false}, {23, 16 * time.Millisecond, true}, {31, 133 * time.Millisecond, true}} {
		r.now = r.now.Add(step.after - 33*time.Millisecond) // send adds 33 ms
		encs := r.send(frames[step.scene])
		if !samePixels(r.c, frames[step.scene]) {
			t.Fatalf("scene %d: the viewer's image is not the scene", step.scene)
		}
		t.Logf("scene %d after %v: %v", step.scene, step.after, encs)
		if step.copies && encs["copy"] == 0 {
			t.Errorf("scene %d after %v: no copies of the moved windows", step.scene, step.after)
		}
	}
}

// BenchmarkAnswerDeskScenes is the agent's whole path for one update (capture, diff, scrolls
// and motion, encode, the stream) on the end-to-end bench's own `full` content: consecutive
// desktop scenes of the workload (anti-aliased text, windows moved a few pixels on both axes,
// documents scrolled on, a change of layout), the whole screen damaged each time as the
// workload's PutImage damages it. An op is one scene; what deskbench's `full` costs the agent
// per update, without the X server and the link. cpu-ms/op is the process's CPU time an op (all
// its goroutines: what the agent spends of the shared cores), steadier than ns/op under load.
func BenchmarkAnswerDeskScenes(b *testing.B) {
	benchAnswer(b, deskScenes(b, 1920, 1080, 8, 24)) // scenes 8–31: layout 0, then the switch to 1 at 20
}

// BenchmarkAnswerLayoutChange is BenchmarkAnswerDeskScenes on the updates that make its tail,
// changes of window layout: scenes 20, 40, … 240 in turn, each the first of its layout, with
// new pixels on most of the screen that no copy explains (and none the stream's window holds).
func BenchmarkAnswerLayoutChange(b *testing.B) {
	benchAnswer(b, deskScenesEvery(b, 1920, 1080, 20, 20, 12))
}

// benchAnswer answers frames in turn, a scene every 1/60 s.
func benchAnswer(b *testing.B, frames []*image.RGBA) {
	n, r := len(frames), frames[0].Rect
	screen := newFakeScreen(Monitor{W: r.Dx(), H: r.Dy(), Primary: true})
	var sink countingWriter
	s := &fbServer{c: newConn(&sink), screen: screen, log: slog.New(slog.DiscardHandler),
		caps: uint64(wire.CapSolid | wire.CapCopy | wire.CapPalette | wire.CapJPEG)}
	if err := s.c.startWriteStream(); err != nil {
		b.Fatal(err)
	}
	if _, err := s.checkLayout(); err != nil {
		b.Fatal(err)
	}
	s.waiter = &waitingScreen{screen, nil}
	clock := time.Unix(1000, 0) // a scene every 1/60 s, as the workload draws them
	s.enc.now = func() time.Time { return clock }
	answer := func(i int) {
		clock = clock.Add(time.Second / 60)
		screen.set(func(img *image.RGBA) { copy(img.Pix, frames[i%n].Pix) })
		s.damage = append(s.damage[:0], screen.img.Rect)
		s.pending = 1
		if err := s.answer(); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n { // one pass: buffers at their working size, the stream's window filled
		answer(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu, zin := sink.n, cpuTime(), s.c.zin
	for i := 0; i < b.N; i++ {
		answer(i)
	}
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(sink.n-start)/float64(b.N), "wire-bytes/op")
	b.ReportMetric(float64(s.c.zin-zin)/float64(b.N), "stream-in-bytes/op")
}

// cpuTime is the process's CPU time so far, user and system, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkApplyLayoutChange is the viewer's part of BenchmarkAnswerLayoutChange: applying to
// its image the updates the agent sends inside the stream for scenes 20, 40, … 240 in turn
// (raw, palette and solid rectangles over most of a 1920×1080 screen). An op is one update.
func BenchmarkApplyLayoutChange(b *testing.B) {
	frames := deskScenesEvery(b, 1920, 1080, 20, 20, 12)
	e := newEncoder(frames[0].Rect, allCaps&^wire.CapZstd)
	e.forceAll(frames[0].Rect)
	updates := make([][]byte, len(frames))
	for i, f := range append(frames, frames[0]) {
		e.markChanged(f.Rect)
		u := wire.Append(e.encode(f, f.Rect, nil), &wire.UpdateEnd{Seq: uint64(i + 1)})
		if i > 0 { // the first is the whole screen over black
			updates[i-1] = u
		}
	}
	c := newTestClient(b, []Monitor{{W: 1920, H: 1080}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c.updates <- splitFrames(b, updates[i%len(updates)])
		b.StartTimer()
		c.outstanding = c.inFlight
		if _, err := c.Next(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
