package viewer_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/draw"
	"image/png"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/assistkit/assist/internal/harness/painted"
	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/viewer"
)

// teeConn records what the agent's side writes, each message at the test's clock.
type teeConn struct {
	net.Conn
	f     rdp.Framer
	w     *recording.Writer
	clock *atomic.Int64 // nanoseconds
}

func (c *teeConn) Write(p []byte) (int, error) {
	c.f.Feed(p, func(m []byte) { c.w.Add(recording.KindScreen, time.Duration(c.clock.Load()), 1, m) })
	return c.Conn.Write(p)
}

// recordPainted writes a recording of an agent's framebuffer channel, as the gateway keeps it,
// while its screen shows painted screens 0, 1 and 2 at 0, 1 s and 2 s, and returns them.
func recordPainted(t *testing.T, path string) []*image.RGBA {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := recording.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(recording.Meta{Session: "0123456789abcdef", Request: "TEST-CODE", Technician: "alice", Started: time.Now().UTC()})
	ch, _ := json.Marshal(recording.Channel{Type: protocol.FramebufferChannel})
	w.Add(recording.KindMeta, 0, 0, meta)
	w.Add(recording.KindChannel, 0, 1, ch)

	screen := painted.New(320, 240)
	var clock atomic.Int64
	a, v := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- rdp.ServeFramebuffer(ctx, &teeConn{Conn: a, w: w, clock: &clock}, screen, rdp.FramebufferOptions{PollInterval: 5 * time.Millisecond})
	}()
	c, err := rdp.NewFramebufferClient(v, 1)
	if err != nil {
		t.Fatal(err)
	}
	var shown []*image.RGBA
	for k := range 3 {
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
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return shown
}

// canvasImage is what the playback page's canvas shows.
func canvasImage(t *testing.T, ctx context.Context) *image.RGBA {
	t.Helper()
	url := evalJS[string](t, ctx, `document.getElementById('screen').toDataURL('image/png')`)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Rect, img, img.Bounds().Min, draw.Src)
	return out
}

// TestPlaybackPage plays a recording in headless Chromium: the page shows the first frame,
// seeks to 1.5 s and shows the screen the agent had then, plays to the end and shows the last;
// the canvas's pixels are the recorded screens' exactly.
func TestPlaybackPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.rec")
	screens := recordPainted(t, path)
	p, err := viewer.OpenPlayer(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	web, err := viewer.NewPlaybackWeb(p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	go web.Serve(sctx)

	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(web.URL()), chromedp.WaitVisible(chromedp.ID("screen"))); err != nil {
		t.Fatalf("open the playback page: %v", err)
	}
	shows := func(ms string, want *image.RGBA, what string) {
		t.Helper()
		waitJS(t, ctx, `document.getElementById('screen').dataset.t === '`+ms+`'`)
		if got := canvasImage(t, ctx); !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("%s: the canvas (%v) differs from the recorded screen (%v)", what, got.Rect, want.Rect)
		}
	}
	shows("0", screens[0], "at the start")
	if got := evalJS[string](t, ctx, `document.getElementById('clock').textContent`); got != "0:00:00 / 0:00:02" {
		t.Errorf("the clock says %q", got)
	}
	evalJS[bool](t, ctx, `(() => { const s = document.getElementById('seek'); s.value = '1500'; s.dispatchEvent(new Event('input')); return true })()`)
	shows("1500", screens[1], "after seeking to 1.5 s")
	evalJS[bool](t, ctx, `(() => { document.getElementById('play').click(); return true })()`)
	waitJS(t, ctx, `document.getElementById('play').textContent === 'Pause'`)
	shows("2000", screens[2], "played to the end")
	waitJS(t, ctx, `document.getElementById('play').textContent === 'Play'`)
}

// TestRecordingsPage: the page of a request's recordings lists them with their status, offers
// Play for those that play, and its link opens the recording's playback page, which shows the
// recorded screens.
func TestRecordingsPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.rec")
	screens := recordPainted(t, path)
	started := time.Date(2026, 11, 24, 2, 3, 0, 0, time.UTC)
	list := []viewer.RecordingInfo{
		{ID: "18ed44d1c4129b0bbd276de3", Request: "TEST-CODE", Technician: "bob", Started: started, Duration: "2s", Bytes: 1234, Status: "ok"},
		{ID: "18ed44d1c4129b0bbd276de4", Request: "TEST-CODE", Technician: "bob", Started: started.Add(-time.Hour), Status: "MISSING"},
	}
	var mu sync.Mutex
	var opened []string
	open := func(id string) (*viewer.Player, func(), error) {
		mu.Lock()
		opened = append(opened, id)
		mu.Unlock()
		p, err := viewer.OpenPlayer(path)
		if err != nil {
			return nil, nil, err
		}
		return p, func() { p.Close() }, nil
	}
	web, err := viewer.NewRecordingsWeb("request TEST-CODE", list, open, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	go web.Serve(sctx)

	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(web.URL()), chromedp.WaitVisible(chromedp.ID("recordings"))); err != nil {
		t.Fatalf("open the recordings page: %v", err)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#recordings a.play').length`); n != 1 {
		t.Fatalf("%d Play links, want one: the missing recording has none", n)
	}
	if s := evalJS[string](t, ctx, `document.querySelector('[data-recording="18ed44d1c4129b0bbd276de4"] .status').textContent`); s != "MISSING" {
		t.Errorf("the missing recording's status reads %q", s)
	}
	evalJS[bool](t, ctx, `(() => { document.querySelector('#recordings a.play').click(); return true })()`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("screen"))); err != nil {
		t.Fatalf("the Play link: %v", err)
	}
	waitJS(t, ctx, `document.getElementById('screen').dataset.t === '0'`)
	if got := canvasImage(t, ctx); !bytes.Equal(got.Pix, screens[0].Pix) {
		t.Fatal("the playback page opened from the list does not show the recorded screen")
	}
	evalJS[bool](t, ctx, `(() => { const s = document.getElementById('seek'); s.value = '2000'; s.dispatchEvent(new Event('input')); return true })()`)
	waitJS(t, ctx, `document.getElementById('screen').dataset.t === '2000'`)
	if got := canvasImage(t, ctx); !bytes.Equal(got.Pix, screens[2].Pix) {
		t.Fatal("after seeking, the playback page opened from the list does not show the recorded screen")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(opened) != 1 || opened[0] != list[0].ID {
		t.Errorf("recordings opened: %v, want the played one once", opened)
	}
}
