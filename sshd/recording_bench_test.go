package sshd_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/assistkit/assist/internal/harness/workload"
	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/sshd/internal/recorder"
	"github.com/assistkit/assist/viewer"
)

func benchSeconds() time.Duration {
	if n, err := strconv.Atoi(os.Getenv("BENCH_SECONDS")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 4 * time.Second
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// recordWorkload runs mode for d on a 1920x1080 Xvfb through a gateway recording with mode
// rm, the viewer pulling every update, and returns the bytes that crossed the desktop
// channels, the recording's size, and the process's CPU time during the workload.
func recordWorkload(b testing.TB, mode workload.Mode, rm sshd.RecordMode, d time.Duration) (crossed, recorded int64, cpu time.Duration, path string) {
	dir := b.TempDir()
	rig := recordedScreen(b, sshd.RecordConfig{Mode: rm, Dir: dir}, "1920x1080x24")
	g, s, display, cred := rig.g, rig.s, rig.display, rig.cred
	fb, err := s.Framebuffer(2)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := cpuNow()
	go func() { done <- workload.Run(ctx, workload.Options{Display: display, Mode: mode, Duration: d}) }()
	for pulling := true; pulling; {
		select {
		case <-done:
			pulling = false
		default:
			uctx, ucancel := context.WithTimeout(ctx, 200*time.Millisecond)
			fb.Next(uctx)
			ucancel()
		}
	}
	cpu = cpuNow() - start
	s.Close()
	kind := "recording.saved"
	if rm == sshd.RecordOff {
		kind = "session.ended"
	}
	saved := waitEvent(b, g, kind, map[string]string{"credential": cred.ID})
	recorded, _ = strconv.ParseInt(saved.Attrs["bytes"], 10, 64)
	for _, e := range events(b, g, "channel.closed") {
		if e.Attrs["credential"] == cred.ID && e.Attrs["type"] != "sftp" {
			up, _ := strconv.ParseInt(e.Attrs["bytes_to_agent"], 10, 64)
			down, _ := strconv.ParseInt(e.Attrs["bytes_to_technician"], 10, 64)
			crossed += up + down
		}
	}
	return crossed, recorded, cpu, filepath.Join(dir, cred.ID+".rec")
}

// BenchmarkRecording prints, per desktop workload, the recording's size an hour against the
// bytes that crossed the gateway, and for full the CPU the recording adds (the same run with
// recording off, in this one process: gateway, agent, viewer and workload together, per byte
// crossed).
func BenchmarkRecording(b *testing.B) {
	d := benchSeconds()
	for _, mode := range []workload.Mode{workload.Typing, workload.Scroll, workload.Full, workload.Idle} {
		b.Run(string(mode), func(b *testing.B) {
			crossed, recorded, cpuOn, _ := recordWorkload(b, mode, sshd.RecordOn, d)
			perHour := func(n int64) float64 { return float64(n) / d.Seconds() * 3600 / 1e6 }
			b.ReportMetric(perHour(crossed), "crossed-MB/h")
			b.ReportMetric(perHour(recorded), "recorded-MB/h")
			if crossed > 0 {
				b.ReportMetric(float64(recorded)/float64(crossed)*100, "recorded-%-of-crossed")
			}
			if mode == workload.Full {
				// The same run unrecorded. How many frames get through varies with the
				// machine's load, and the process's CPU with them, so the two are compared
				// per byte crossed; BenchmarkRecorder has the recorder's own cost.
				crossedOff, _, cpuOff, _ := recordWorkload(b, mode, sshd.RecordOff, d)
				perByte := float64(cpuOn)/float64(crossed) - float64(cpuOff)/float64(crossedOff)
				b.ReportMetric(perByte*float64(crossed)/float64(d)*100, "recording-cpu-%-of-a-core")
			}
		})
	}
}

// BenchmarkSeekOneHour synthesises a one-hour recording as the gateway records an agent that
// sends key batches, from a real scroll session: its screen messages, opened from the stream and
// looped, go into a zstd stream again as the agent writes it (default level, an 8 MiB window,
// flushed at each update's end), with a key batch whenever the agent's policy has one due (20
// times the last one's size on the wire, at least 2 s apart). The key batches show the
// session's last screen, its text area full: the bench times seeks (the e2e test checks
// pixels). It times seeks to spread-out points in random order.
func BenchmarkSeekOneHour(b *testing.B) {
	_, _, _, path := recordWorkload(b, workload.Scroll, sshd.RecordOn, benchSeconds())
	hello := viewerHello(b, path)
	crossed, times := screenMessages(b, path)
	msgs, times, onWire := opened(b, crossed[1:], times[1:])
	first := slices.IndexFunc(msgs, func(m []byte) bool { return m[4] == 18 }) + 1 // after the first update: no layout again
	dec, err := rdp.NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	if err := dec.ApplyAll(msgs); err != nil {
		b.Fatal(err)
	}
	key := dec.AppendKeyFrame(nil)
	dec.Close()

	var clock time.Duration
	dir := b.TempDir()
	rec, err := recorder.Start(dir, recording.Meta{Session: "0123456789abcdef"}, recorder.Options{Clock: func() time.Duration { return clock }})
	if err != nil {
		b.Fatal(err)
	}
	tap := rec.OpenChannel(protocol.FramebufferChannel)
	tap.ToAgent(io.Discard).Write(hello)
	w := tap.ToTech(io.Discard)
	w.Write(crossed[0]) // the agent's hello
	as := newAgentStream(b, w)
	span := times[len(times)-1] - times[first]
	for loop := time.Duration(0); clock < time.Hour; loop += span + 50*time.Millisecond {
		for i, m := range msgs {
			if loop > 0 && i < first {
				continue
			}
			clock = loop + times[i]
			as.send(m, onWire[i], clock, key)
		}
	}
	sum, err := rec.Close("bench")
	if err != nil {
		b.Fatal(err)
	}
	p, err := viewer.OpenPlayer(recorder.Path(dir, "0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var worst, total time.Duration
	points := []time.Duration{59 * time.Minute, 3 * time.Minute, 31 * time.Minute, 45 * time.Minute, 10 * time.Second, 20 * time.Minute, 58 * time.Minute, 1 * time.Minute}
	b.ResetTimer()
	for range b.N {
		for _, t := range points {
			start := time.Now()
			if err := p.Seek(t); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			total += el
			worst = max(worst, el)
		}
	}
	b.ReportMetric(float64(worst.Milliseconds()), "worst-seek-ms")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N*len(points)), "mean-seek-ms")
	fmt.Fprintf(os.Stderr, "one-hour recording: %d bytes, %d chunks (%d key batches of %d bytes), %v\n", sum.Bytes, sum.Chunks, as.keys, as.keySize, sum.Duration.Round(time.Second))
}

// screenMessages reads the screen messages of a recording and their times.
func screenMessages(b testing.TB, path string) ([][]byte, []time.Duration) {
	r, f := openRecording(b, path)
	defer f.Close()
	var msgs [][]byte
	var times []time.Duration
	for i := range r.Chunks {
		r.Records(i, func(rec recording.Record) error {
			if rec.Kind == recording.KindScreen {
				msgs = append(msgs, slices.Clone(rec.Data))
				times = append(times, rec.Time)
			}
			return nil
		})
	}
	return msgs, times
}

// BenchmarkRecorder replays a real full session's framebuffer channel through the recorder
// alone, as it crossed the gateway (the recording keeps the agent's messages as they crossed:
// its key batches and stream), with the session's own clock. It reports the recorder's CPU time
// as a share of one core over the session's length, and the recording's size against the
// bytes replayed: the recorder's own cost, free of the gateway, agent and viewer that share the
// process in BenchmarkRecording. Profile it with -cpuprofile.
func BenchmarkRecorder(b *testing.B) {
	_, _, _, path := recordWorkload(b, workload.Full, sshd.RecordOn, benchSeconds())
	hello := viewerHello(b, path)
	msgs, at := screenMessages(b, path)
	var crossed int64
	for _, m := range msgs {
		crossed += int64(len(m))
	}
	span := at[len(at)-1] - at[0]
	dir := b.TempDir()
	b.Run("full", func(b *testing.B) { // the session above runs once, whatever b.N
		var recorded int64
		start := cpuNow()
		for i := range b.N {
			var clock time.Duration
			id := fmt.Sprintf("bench%d", i)
			rec, err := recorder.Start(dir, recording.Meta{Session: id}, recorder.Options{Clock: func() time.Duration { return clock }})
			if err != nil {
				b.Fatal(err)
			}
			tap := rec.OpenChannel(protocol.FramebufferChannel)
			tap.ToAgent(io.Discard).Write(hello)
			w := tap.ToTech(io.Discard)
			for k, m := range msgs {
				clock = at[k]
				w.Write(m)
			}
			sum, err := rec.Close("bench")
			if err != nil {
				b.Fatal(err)
			}
			recorded = sum.Bytes
			os.Remove(recorder.Path(dir, id))
		}
		cpu := cpuNow() - start
		b.ReportMetric(float64(cpu)/float64(b.N)/float64(span)*100, "recorder-cpu-%-of-a-core")
		b.ReportMetric(float64(recorded)/float64(crossed)*100, "recorded-%-of-crossed")
		b.ReportMetric(float64(crossed)/span.Seconds()*3600/1e6, "crossed-MB/h")
	})
}

// viewerHello is the first message the viewer sent on the recording's framebuffer channel.
func viewerHello(b testing.TB, path string) []byte {
	r, f := openRecording(b, path)
	defer f.Close()
	var hello []byte
	for i := range r.Chunks {
		r.Records(i, func(rec recording.Record) error {
			if rec.Kind == recording.KindScreenRequest && hello == nil {
				hello = slices.Clone(rec.Data)
			}
			return nil
		})
		if hello != nil {
			return hello
		}
	}
	b.Fatal("no viewer hello in the recording")
	return nil
}

// opened is a framebuffer channel's messages with the agent's stream opened: the messages
// inside it, each at the time of the stream message that completed it, and the bytes that
// stream message took on the wire (given to the first message it completed).
func opened(b testing.TB, msgs [][]byte, times []time.Duration) ([][]byte, []time.Duration, []int) {
	var u rdp.Unstreamer
	defer u.Close()
	var out [][]byte
	var at []time.Duration
	var wire []int
	for i, m := range msgs {
		n := len(m)
		err := u.Feed(m, func(m []byte) {
			out, at, wire = append(out, slices.Clone(m)), append(at, times[i]), append(wire, n)
			n = 0
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return out, at, wire
}

// agentStream writes messages as an agent that sends key batches does: one zstd stream, flushed
// at each update's end, cut into stream messages; a key batch (a new zstd frame) once the
// stream since the last one adds up to 20 times its size, at least 2 s after it. The stream's
// size is counted as the session's own took on the wire: the session looped compresses, within
// zstd's window, to far less than an hour of new lines would.
type agentStream struct {
	b                 testing.TB
	w                 io.Writer
	z                 bytes.Buffer
	zw                *zstd.Encoder
	sinceKey, keySize int
	lastKey           time.Duration
	keys              int
}

func newAgentStream(b testing.TB, w io.Writer) *agentStream {
	as := &agentStream{b: b, w: w, keySize: 1 << 20}
	var err error
	as.zw, err = zstd.NewWriter(&as.z, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(8<<20),
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	if err != nil {
		b.Fatal(err)
	}
	return as
}

// send writes msg, which took onWire bytes in the session; after an update's end, the key
// batch key when one is due.
func (as *agentStream) send(msg []byte, onWire int, t time.Duration, key []byte) {
	as.zw.Write(msg)
	as.sinceKey += onWire
	if msg[4] != 18 {
		return
	}
	as.zw.Flush()
	as.emit()
	if as.sinceKey < 20*as.keySize || t-as.lastKey < 2*time.Second {
		return
	}
	as.zw.Close()
	as.emit()
	as.zw.Reset(&as.z)
	as.zw.Write(key)
	as.zw.Flush()
	as.keySize, as.sinceKey, as.lastKey = as.emit(), 0, t
	as.keys++
}

// emit writes what the encoder produced as stream messages and says how many bytes.
func (as *agentStream) emit() int {
	n := 0
	for p := as.z.Bytes(); len(p) > 0; {
		k := min(len(p), 1<<20)
		m := append(binary.BigEndian.AppendUint32(nil, uint32(k+1)), 21)
		m = append(m, p[:k]...)
		as.w.Write(m)
		n, p = n+len(m), p[k:]
	}
	as.z.Reset()
	return n
}
