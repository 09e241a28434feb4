package viewer

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/assistkit/assist/viewer/internal/web"
)

// PlaybackWeb is the viewer page in playback mode for one recording.
type PlaybackWeb struct{ srv *web.Server }

// NewPlaybackWeb serves p's page on 127.0.0.1.
func NewPlaybackWeb(p *Player, log *slog.Logger) (*PlaybackWeb, error) {
	srv, err := web.NewPlayback(&playbackPage{p: p}, web.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &PlaybackWeb{srv: srv}, nil
}

// URL is what the technician's browser opens, once.
func (w *PlaybackWeb) URL() string { return w.srv.URL() }

// Serve runs the page until ctx ends.
func (w *PlaybackWeb) Serve(ctx context.Context) error { return w.srv.ServePlayback(ctx) }

// playbackPage is a Player as the page reaches it, one request at a time.
type playbackPage struct {
	mu       sync.Mutex
	p        *Player
	timeline map[string]any
	done     func() // frees p, for a page opened from a list
}

// Close frees the player of a page opened from a list.
func (pp *playbackPage) Close() error {
	if pp.done != nil {
		pp.done()
	}
	return nil
}

func (pp *playbackPage) Title() string {
	m := pp.p.Meta
	return fmt.Sprintf("%s, %s, %s", m.Request, m.Technician, m.Started.Local().Format("2006-01-02 15:04"))
}

func (pp *playbackPage) Timeline() (any, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.timeline == nil {
		markers, _, err := pp.p.Scan()
		if err != nil {
			return nil, err
		}
		tl := map[string]any{"duration_ms": pp.p.Duration().Milliseconds(), "markers": markers}
		if d := pp.p.Damage(); d != nil {
			tl["damage"] = d.Error() + "; playback stops there"
		}
		pp.timeline = tl
	}
	return pp.timeline, nil
}

func (pp *playbackPage) Frame(t time.Duration) (*image.RGBA, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if err := pp.p.Seek(t); err != nil {
		return nil, err
	}
	src := pp.p.Image()
	img := image.NewRGBA(image.Rectangle{Max: src.Rect.Size()})
	copy(img.Pix, src.Pix)
	return img, nil
}

// RecordingInfo is one recording as the gateway's recording list has it (its --json output).
type RecordingInfo struct {
	ID         string    `json:"id"`
	Request    string    `json:"request"`
	Technician string    `json:"technician"`
	Started    time.Time `json:"started"`
	Duration   string    `json:"duration"`
	Bytes      int64     `json:"bytes"`
	Status     string    `json:"status"`
}

// Playable reports whether the recording can be played: its file is there and its session has
// ended (a damaged one plays up to the damage, a tampered one as it now is).
func (ri RecordingInfo) Playable() bool {
	return ri.Status == "ok" || ri.Status == "unsealed" || strings.HasPrefix(ri.Status, "DAMAGED") || strings.HasPrefix(ri.Status, "TAMPERED")
}

// RecordingsWeb is a page listing recordings, each with a link to play it in the playback page.
type RecordingsWeb struct{ srv *web.Server }

// NewRecordingsWeb serves on 127.0.0.1 the page of list (whose recordings title names); a Play
// link opens its recording with open, which fetches it from the gateway, once.
func NewRecordingsWeb(title string, list []RecordingInfo, open func(id string) (*Player, func(), error), log *slog.Logger) (*RecordingsWeb, error) {
	srv, err := web.NewRecordings(&recordingList{title: title, list: list, open: open}, web.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &RecordingsWeb{srv: srv}, nil
}

// URL is what the technician's browser opens, once.
func (w *RecordingsWeb) URL() string { return w.srv.URL() }

// Serve runs the page until ctx ends, then frees the recordings it opened.
func (w *RecordingsWeb) Serve(ctx context.Context) error { return w.srv.ServePlayback(ctx) }

type recordingList struct {
	title string
	list  []RecordingInfo
	open  func(id string) (*Player, func(), error)
}

func (rl *recordingList) Title() string { return rl.title }

func (rl *recordingList) List() []web.RecordingEntry {
	out := make([]web.RecordingEntry, len(rl.list))
	for i, r := range rl.list {
		out[i] = web.RecordingEntry{ID: r.ID, Technician: r.Technician, Duration: r.Duration, Status: r.Status, Started: r.Started, Bytes: r.Bytes, Playable: r.Playable()}
	}
	return out
}

func (rl *recordingList) Open(id string) (web.Playback, error) {
	if !slices.ContainsFunc(rl.list, func(r RecordingInfo) bool { return r.ID == id && r.Playable() }) {
		return nil, fmt.Errorf("recording %s is not one of the list's to play", id)
	}
	p, done, err := rl.open(id)
	if err != nil {
		return nil, err
	}
	return &playbackPage{p: p, done: done}, nil
}
