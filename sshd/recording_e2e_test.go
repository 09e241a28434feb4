package sshd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/workload"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// recorded is a one-time session to an agent sharing an Xvfb display, through a gateway that
// records.
type recorded struct {
	g       *testenv.Gateway
	s       *viewer.Session
	consent *testenv.RecordingConsent
	display string
	cred    tickets.Credential
	agent   *testenv.Agent
	link    *linkproxy.Proxy // the agent's, when asked for
}

// recordedDesktop starts Xvfb, a gateway recording with rc, an agent sharing the display and a
// one-time session to it.
func recordedDesktop(t testing.TB, rc sshd.RecordConfig) recorded {
	return recordedScreen(t, rc, "640x480x24")
}

func recordedScreen(t testing.TB, rc sshd.RecordConfig, screen string) recorded {
	t.Helper()
	return recordedSetup(t, rc, screen, false)
}

// recordedSetup is recordedScreen; with behindLink the agent reaches the gateway through a
// link the test can cut (recorded.link).
func recordedSetup(t testing.TB, rc sshd.RecordConfig, screen string, behindLink bool) recorded {
	t.Helper()
	display := xvfb.ForTest(t, "-screen", "0", screen)
	d, closer, err := agent.OpenDesktop(display, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) {
		c.Record = rc
		c.CredentialGrace = 100 * time.Millisecond
	}})
	tech := g.AddTechnician(t, "alice", false)
	consent := &testenv.RecordingConsent{Grant: protocol.GrantView | protocol.GrantControl}
	ao := testenv.AgentOptions{Consent: consent, Routes: agent.DesktopRoutes(d, slog.New(slog.DiscardHandler))}
	var link *linkproxy.Proxy
	if behindLink {
		if link, err = linkproxy.Start(g.Addr); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { link.Close() })
		ao.Via = link.Addr
	}
	a := g.StartAgent(t, ao)
	o := g.IssueOTC(t, tech, a.Code())
	cred := credentialOf(t, g, o)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return recorded{g: g, s: s, consent: consent, display: display, cred: cred, agent: a, link: link}
}

func credentialOf(t testing.TB, g *testenv.Gateway, o *tickets.OTC) tickets.Credential {
	t.Helper()
	creds, err := g.Store.CredentialsForRequest(requestID(t, g, o.Request))
	if err != nil || len(creds) == 0 {
		t.Fatalf("credentials of %s: %v", o.Request, err)
	}
	return creds[len(creds)-1]
}

func requestID(t testing.TB, g *testenv.Gateway, code string) string {
	t.Helper()
	r, err := g.Store.Request(code)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// viewedFrame is the viewer's image after one update.
type viewedFrame struct{ pix []byte }

// TestRecordingPlaysBackWhatTheViewerSaw records a real session on Xvfb while a deterministic
// workload draws, keeps every frame the viewer received, and checks that playing the recording
// back, seeking to each update's time in order and out of order, gives the same frames pixel
// for pixel; and that the audit trail's hash seals the file.
func TestRecordingPlaysBackWhatTheViewerSaw(t *testing.T) {
	dir := t.TempDir()
	rig := recordedDesktop(t, sshd.RecordConfig{Mode: sshd.RecordOn, Dir: dir, KeyFrameRatio: 1})
	g, s, consent, display, cred := rig.g, rig.s, rig.consent, rig.display, rig.cred
	fb, err := s.Framebuffer(2)
	if err != nil {
		t.Fatal(err)
	}
	if asks := consent.Asks(); len(asks) != 1 || !asks[0].Recorded {
		t.Fatalf("the person was asked %+v, want one question saying the session is recorded", asks)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	frames := viewWorkload(ctx, t, fb, display, 5*time.Second)
	s.Close()
	saved := waitEvent(t, g, "recording.saved", map[string]string{"credential": cred.ID})

	p, err := viewer.OpenPlayer(filepath.Join(dir, cred.ID+".rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, updates, err := p.Scan()
	if err != nil || p.Damage() != nil {
		t.Fatalf("scan: %v, damage %v", err, p.Damage())
	}
	if len(updates) < len(frames) || len(frames) < 20 {
		t.Fatalf("the recording has %d updates, the viewer received %d (want at least 20)", len(updates), len(frames))
	}
	keyFrames := keyFrameChunks(t, filepath.Join(dir, cred.ID+".rec"))
	t.Logf("%d frames viewed, %d updates recorded, %d key frames, %s bytes in %s chunks", len(frames), len(updates), keyFrames, saved.Attrs["bytes"], saved.Attrs["chunks"])
	if keyFrames == 0 {
		t.Error("no key frames: seeking would replay from the start")
	}
	seekEachFrame(t, p, updates, frames)
	r, f := openRecording(t, filepath.Join(dir, cred.ID+".rec"))
	defer f.Close()
	sum, err := r.Verify()
	if err != nil || sum.Hash.String() != saved.Attrs["hash"] {
		t.Fatalf("the file's seal %s (%v), the audit trail's %s", sum.Hash, err, saved.Attrs["hash"])
	}
	copySeed(t, filepath.Join(dir, cred.ID+".rec"))
	exportPlays(t, p, filepath.Join(t.TempDir(), "session.mp4"))

	list, err := sshd.ListRecordings(g.Store, dir, "", nil)
	if err != nil || len(list) != 1 || list[0].Status != "ok" || list[0].Request != cred.RequestCode {
		t.Fatalf("recording list: %+v, %v", list, err)
	}
	// One edited byte in the middle of the file: check and list say so.
	path := filepath.Join(dir, cred.ID+".rec")
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0x40
	os.WriteFile(path, b, 0o600)
	n, problems, err := sshd.CheckRecordings(g.Store, dir)
	if err != nil || n != 1 || len(problems) != 1 || !strings.Contains(problems[0], "DAMAGED") {
		t.Fatalf("check after one edited byte: %d checked, %q, %v", n, problems, err)
	}
	t.Logf("check says: %s", problems[0])
	// Re-sealing every chunk after the edit does not help: the audit trail has the old seal.
	resealed := reseal(t, b)
	os.WriteFile(path, resealed, 0o600)
	if _, problems, _ := sshd.CheckRecordings(g.Store, dir); len(problems) != 1 || !strings.Contains(problems[0], "TAMPERED") {
		t.Fatalf("check after a consistent forgery: %q", problems)
	}
}

// viewWorkload runs the full workload on display for d while fb pulls every update, then pulls
// until the screen has been still for 2 s, so that every update the agent sent was viewed; it
// returns the viewer's image after each.
func viewWorkload(ctx context.Context, t *testing.T, fb *rdp.FramebufferClient, display string, d time.Duration) []viewedFrame {
	t.Helper()
	wl := make(chan error, 1)
	go func() { wl <- workload.Run(ctx, workload.Options{Display: display, Mode: workload.Full, Duration: d}) }()
	var frames []viewedFrame
	for running := true; ; {
		select {
		case err := <-wl:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		uctx, ucancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := fb.Next(uctx)
		ucancel()
		if err != nil && ctx.Err() == nil && uctx.Err() != nil {
			if !running {
				return frames
			}
			continue // the screen is still
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, viewedFrame{pix: fb.Snapshot(fb.Bounds()).Pix})
	}
}

// seekEachFrame seeks p to each update's time, in order and then out of order, and checks the
// played frame against the viewer's.
func seekEachFrame(t *testing.T, p *viewer.Player, updates []time.Duration, frames []viewedFrame) {
	t.Helper()
	check := func(k int) {
		t.Helper()
		if err := p.Seek(updates[k]); err != nil {
			t.Fatalf("seek to update %d: %v", k, err)
		}
		// Updates that crossed the gateway in one piece share its time: the viewer had the
		// last of them at that time.
		for k+1 < len(frames) && updates[k+1] == updates[k] {
			k++
		}
		if !bytes.Equal(p.Image().Pix, frames[k].pix) {
			t.Fatalf("update %d at %v: the played frame differs from the viewer's (%d differing bytes)", k, updates[k], diffBytes(p.Image().Pix, frames[k].pix))
		}
	}
	for k := range frames {
		check(k)
	}
	for _, k := range []int{len(frames) - 1, 0, len(frames) / 2, 3, len(frames) - 2, 1} {
		check(k)
	}
}

// TestRecordingFollowsNewScreenChannels: the viewer opens a new framebuffer channel when the
// technician picks a monitor and when the agent comes back after its link dropped; the
// recording plays every frame the viewer saw on each of them, pixel for pixel, seeking in and
// out of order across them.
func TestRecordingFollowsNewScreenChannels(t *testing.T) {
	dir := t.TempDir()
	rig := recordedSetup(t, sshd.RecordConfig{Mode: sshd.RecordOn, Dir: dir}, "640x480x24", true)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	fb, err := rig.s.Framebuffer(2)
	if err != nil {
		t.Fatal(err)
	}
	frames := viewWorkload(ctx, t, fb, rig.display, 2*time.Second)
	phases := []int{len(frames)}

	// The technician picks the (only) monitor: a new channel, as the web viewer opens.
	fb.Close()
	if fb, err = rig.s.Framebuffer(2); err != nil {
		t.Fatal(err)
	}
	if err := fb.SelectMonitor(0); err != nil {
		t.Fatal(err)
	}
	frames = append(frames, viewWorkload(ctx, t, fb, rig.display, 2*time.Second)...)
	phases = append(phases, len(frames))

	// The agent's link drops and comes back; the viewer opens the screen again.
	rig.link.Cut()
	if _, err := fb.Next(ctx); err == nil {
		t.Fatal("the screen went on while the agent's link was cut")
	}
	fb.Close()
	rig.link.Restore()
	if fb, err = rig.s.Framebuffer(2); err != nil {
		t.Fatal(err)
	}
	frames = append(frames, viewWorkload(ctx, t, fb, rig.display, 2*time.Second)...)
	phases = append(phases, len(frames))
	rig.s.Close()
	waitEvent(t, rig.g, "recording.saved", map[string]string{"credential": rig.cred.ID})

	p, err := viewer.OpenPlayer(filepath.Join(dir, rig.cred.ID+".rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, updates, err := p.Scan()
	if err != nil || p.Damage() != nil {
		t.Fatalf("scan: %v, damage %v", err, p.Damage())
	}
	t.Logf("%d frames viewed over three channels (%v), %d updates recorded, %d key frames", len(frames), phases, len(updates), keyFrameChunks(t, filepath.Join(dir, rig.cred.ID+".rec")))
	if len(updates) != len(frames) {
		t.Fatalf("the recording has %d updates of the channels the viewer showed, the viewer received %d", len(updates), len(frames))
	}
	seekEachFrame(t, p, updates, frames)
}

// reseal rewrites a recording's records into a new, self-consistent file, as a forger who can
// write the recordings directory (but not the audit trail) would.
func reseal(t *testing.T, b []byte) []byte {
	r, err := recording.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, _ := recording.NewWriter(&out)
	for i := range r.Chunks {
		r.Records(i, func(rec recording.Record) error { return w.Add(rec.Kind, rec.Time, rec.Channel, rec.Data) })
	}
	w.Close()
	return out.Bytes()
}

// exportPlays exports p through ffmpeg and checks with ffprobe the video's size and duration.
func exportPlays(t *testing.T, p *viewer.Player, out string) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatal("ffmpeg is not installed: run scripts/deps.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	if err := viewer.Export(ctx, p, out, 10, &stderr); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,nb_frames:format=duration", "-of", "default=nw=1", out).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	got := string(probe)
	want := p.Duration().Seconds()
	var dur float64
	for _, line := range strings.Split(got, "\n") {
		if v, ok := strings.CutPrefix(line, "duration="); ok {
			fmt.Sscanf(v, "%g", &dur)
		}
	}
	if !strings.Contains(got, "width=640") || !strings.Contains(got, "height=480") || dur < want-0.15 || dur > want+0.15 {
		t.Fatalf("ffprobe says %q; want 640x480 and %.2f s", got, want)
	}
	t.Logf("exported: %s", strings.ReplaceAll(got, "\n", " "))
}

func diffBytes(a, b []byte) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func openRecording(t testing.TB, path string) (*recording.Reader, *os.File) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	r, err := recording.Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return r, f
}

func keyFrameChunks(t *testing.T, path string) int {
	r, f := openRecording(t, path)
	defer f.Close()
	n := 0
	for _, c := range r.Chunks {
		if c.KeyFrame {
			n++
		}
	}
	return n
}

// copySeed keeps the start of a real recording, its records rewritten into a file of about
// 32 KiB (the agent's stream in stored chunks), as the reader's fuzz seed, when asked
// (ASSIST_UPDATE_SEEDS=1). testdata/session.rec is an earlier one, of format version 1.
func copySeed(t *testing.T, path string) {
	if os.Getenv("ASSIST_UPDATE_SEEDS") == "" {
		return
	}
	r, f := openRecording(t, path)
	defer f.Close()
	var out bytes.Buffer
	w, err := recording.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	size, stop := 0, errors.New("enough")
	for i := range r.Chunks {
		err := r.Records(i, func(rec recording.Record) error {
			if size += len(rec.Data); size > 32<<10 {
				return stop
			}
			if size > 16<<10 && w.Pending() > 0 && rec.Kind == recording.KindScreen {
				w.Flush() // two chunks of screen messages
			}
			if rec.Kind == recording.KindScreen && rdp.MessageName(rec.Data) == "stream" {
				return w.AddCompressed(rec.Kind, rec.Time, rec.Channel, rec.Data)
			}
			return w.Add(rec.Kind, rec.Time, rec.Channel, rec.Data)
		})
		if errors.Is(err, stop) {
			break
		}
	}
	w.Close()
	if err := os.WriteFile(filepath.Join(testenv.RepoFile(t, "internal/recording/testdata"), "session-stream.rec"), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRecordRequiredWithoutADirectory: with recording required and nowhere to write it, no
// session starts; the technician's error and the audit trail say why, and the .otc stays good.
func TestRecordRequiredWithoutADirectory(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o600)
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) {
		c.Record = sshd.RecordConfig{Mode: sshd.RecordRequired, Dir: filepath.Join(notDir, "recordings")}
	}})
	tech := g.AddTechnician(t, "alice", false)
	consent := &testenv.RecordingConsent{Grant: protocol.GrantView}
	a := g.StartAgent(t, testenv.AgentOptions{Consent: consent})
	o := g.IssueOTC(t, tech, a.Code())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	var why string
	if err != nil {
		why = err.Error()
	} else {
		defer s.Close()
		_, err := s.Framebuffer(2)
		if err == nil {
			t.Fatal("a desktop channel opened though the session cannot be recorded")
		}
		why = err.Error()
	}
	if !strings.Contains(why, "records every session and cannot record now") {
		t.Errorf("the technician was told %q, want why there is no session", why)
	}
	if len(consent.Asks()) != 0 {
		t.Error("the person was asked though no session can start")
	}
	e := waitEvent(t, g, "recording.failed", map[string]string{"mode": "required"})
	if !strings.Contains(e.Attrs["reason"], "not a directory") {
		t.Errorf("audit reason %q", e.Attrs["reason"])
	}
	waitEvent(t, g, "session.ended", map[string]string{"credential_state": "issued"})
}

// fullDisk is a recording file that takes limit bytes, then fails as a full disk does.
type fullDisk struct {
	mu    sync.Mutex
	limit int
	f     *os.File
}

func (d *fullDisk) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(p) > d.limit {
		return 0, &os.PathError{Op: "write", Path: d.f.Name(), Err: syscall.ENOSPC}
	}
	d.limit -= len(p)
	return d.f.Write(p)
}

func (d *fullDisk) Close() error { return d.f.Close() }

// TestRecordOnDiskFull: with recording on, a disk that fills up mid-session stops the
// recording, which the audit trail says, and the session goes on; what was written plays.
func TestRecordOnDiskFull(t *testing.T) {
	dir := t.TempDir()
	create := func(path string) (io.WriteCloser, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		return &fullDisk{limit: 4 << 20, f: f}, err
	}
	rig := recordedDesktop(t, sshd.RecordConfig{Mode: sshd.RecordOn, Dir: dir, Create: create})
	g, s, display, cred := rig.g, rig.s, rig.display, rig.cred
	fb, err := s.Framebuffer(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go workload.Run(ctx, workload.Options{Display: display, Mode: workload.Full, Duration: 30 * time.Second})
	for {
		if _, err := fb.Next(ctx); err != nil {
			t.Fatalf("the session did not go on: %v", err)
		}
		if len(events(t, g, "recording.failed")) > 0 {
			break
		}
	}
	e := waitEvent(t, g, "recording.failed", map[string]string{"credential": cred.ID, "mode": "on"})
	if !strings.Contains(e.Attrs["reason"], "no space left") {
		t.Errorf("audit reason %q", e.Attrs["reason"])
	}
	for i := 0; i < 5; i++ { // the session goes on
		if _, err := fb.Next(ctx); err != nil {
			t.Fatalf("update after the disk filled: %v", err)
		}
	}
	s.Close()
	waitEvent(t, g, "recording.saved", map[string]string{"credential": cred.ID})
	p, err := viewer.OpenPlayer(filepath.Join(dir, cred.ID+".rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Seek(p.Duration()); err != nil || p.Bounds() != image.Rect(0, 0, 640, 480) {
		t.Fatalf("what was written before the disk filled does not play: %v, %v", err, p.Bounds())
	}
}

// closable is a recording file that a test can close under the recorder, as a failing disk or
// a removed mount would take it away: writes then fail for real.
type closable struct {
	*os.File
	taken chan struct{} // closed once the test closed the file
	once  sync.Once
}

func (c *closable) take() { c.once.Do(func() { c.File.Close(); close(c.taken) }) }

// TestRecordRequiredFailsMidSession: with recording required, a recording that can no longer be
// written during the session ends it at once; the technician, the person and the audit trail
// are told why.
func TestRecordRequiredFailsMidSession(t *testing.T) {
	dir := t.TempDir()
	files := make(chan *closable, 1)
	create := func(path string) (io.WriteCloser, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		c := &closable{File: f, taken: make(chan struct{})}
		files <- c
		return c, nil
	}
	rig := recordedDesktop(t, sshd.RecordConfig{Mode: sshd.RecordRequired, Dir: dir, Create: create})
	fb, err := rig.s.Framebuffer(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go workload.Run(ctx, workload.Options{Display: rig.display, Mode: workload.Full, Duration: 30 * time.Second})
	for range 3 { // the session runs, recorded
		if _, err := fb.Next(ctx); err != nil {
			t.Fatalf("update before the recording failed: %v", err)
		}
	}
	(<-files).take()
	const want = "the recording failed and this gateway requires one: file already closed"
	select {
	case <-rig.s.Ended():
	case <-ctx.Done():
		t.Fatal("the session went on after its required recording failed")
	}
	if why := rig.s.EndReason(); why != want {
		t.Errorf("the technician was told %q, want %q", why, want)
	}
	ended := rig.agent.WaitEvent(t, agent.EventSessionEnded, 10*time.Second)
	var gw *agent.GatewayEndError
	if !errors.As(ended.Err, &gw) || gw.Reason != want {
		t.Errorf("the person's agent heard %v, want %q", ended.Err, want)
	}
	failed := waitEvent(t, rig.g, "recording.failed", map[string]string{"credential": rig.cred.ID, "mode": "required"})
	if !strings.Contains(failed.Attrs["reason"], "file already closed") {
		t.Errorf("recording.failed says %q", failed.Attrs["reason"])
	}
	e := waitEvent(t, rig.g, "session.ended", map[string]string{"credential": rig.cred.ID})
	if e.Attrs["cause"] != want {
		t.Errorf("session.ended's cause %q", e.Attrs["cause"])
	}
	saved := waitEvent(t, rig.g, "recording.saved", map[string]string{"credential": rig.cred.ID})
	t.Logf("the technician was told: %s; sealed with %s chunks, error %q", rig.s.EndReason(), saved.Attrs["chunks"], saved.Attrs["error"])
}
