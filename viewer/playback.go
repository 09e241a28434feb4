package viewer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"strings"
	"time"

	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
)

// Player shows a session recording: the screen as the technician's viewer had it at any time,
// decoded by rdp's decoder from the messages that crossed the gateway. Seeking goes to the last
// key frame before the time and catches up from there, so it costs about one screen's decoding
// however long the recording. A damaged recording plays up to the damage; Damage says where.
//
// A Player is not safe for concurrent use.
type Player struct {
	f    *os.File
	r    *recording.Reader
	Meta recording.Meta

	dec      *rdp.Decoder
	unstream rdp.Unstreamer // the shown channel's stream (the agent's, as it crossed), opened
	follow   uint64         // the framebuffer channel shown
	pos      time.Duration  // every record up to here is applied
	ci, ri   int            // the next record: chunk ci, record ri
	recs     []recording.Record
	damage   error
	batch    [][]byte
	batchN   int
}

// OpenPlayer opens the recording at path.
func OpenPlayer(path string) (*Player, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open recording: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open recording: %w", err)
	}
	r, err := recording.Open(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := &Player{f: f, r: r, damage: nilIfNoDamage(r.Damage)}
	if p.Meta, err = r.Meta(); err != nil {
		p.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := p.reset(0); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func nilIfNoDamage(d *recording.DamageError) error {
	if d == nil {
		return nil
	}
	return d
}

// Close closes the file.
func (p *Player) Close() error {
	if p.dec != nil {
		p.dec.Close()
	}
	p.unstream.Close()
	p.r.Close()
	return p.f.Close()
}

// Duration is how long the readable part of the recording lasts.
func (p *Player) Duration() time.Duration { return p.r.Duration() }

// Damage is where the recording stops being readable, nil while none was met. The index's
// damage (a cut file) is known at once; a chunk that fails its hash when it is read.
func (p *Player) Damage() error { return p.damage }

// Position is the time the image shows.
func (p *Player) Position() time.Duration { return p.pos }

// Image is the screen at Position; it changes with the next Seek.
func (p *Player) Image() *image.RGBA { return p.dec.Image() }

// Cursor is the pointer at Position.
func (p *Player) Cursor() rdp.Cursor { return p.dec.Cursor() }

// Bounds is the screen's size at Position (empty before the first layout).
func (p *Player) Bounds() image.Rectangle { return p.dec.Bounds() }

// Seek brings the image to time t: every screen message recorded at or before t applied. Going
// forward continues from Position; going back, or far ahead, starts again at the last key frame
// before t. An error is a record that does not decode; damage is not an error (see Damage).
func (p *Player) Seek(t time.Duration) error {
	k := p.r.KeyFrameBefore(t)
	if t < p.pos || k > p.ci {
		if err := p.reset(k); err != nil {
			return err
		}
	}
	if err := p.advance(t); err != nil {
		return err
	}
	p.pos = t
	return p.flush()
}

// reset starts over at chunk k with a fresh decoder; its key frame, if it has one, is applied
// when advance reads it.
func (p *Player) reset(k int) error {
	if p.dec != nil {
		p.dec.Close()
	}
	dec, err := rdp.NewDecoder()
	if err != nil {
		return err
	}
	p.dec, p.follow, p.ci, p.ri, p.recs, p.pos = dec, 0, k, 0, nil, 0
	p.batch, p.batchN = nil, 0
	p.unstream.Close()
	p.unstream = rdp.Unstreamer{}
	if k > 0 {
		p.pos = p.r.Chunks[k].First
	}
	if err := p.load(); err != nil {
		return err
	}
	if k > 0 && len(p.recs) > 0 && p.recs[0].Kind == recording.KindScreen {
		p.follow = p.recs[0].Channel // the agent's key batch starts the chunk
	}
	return nil
}

// load reads chunk ci's records, or records the damage that stops playback there.
func (p *Player) load() error {
	p.recs = p.recs[:0]
	if p.ci >= len(p.r.Chunks) {
		return nil
	}
	err := p.r.Records(p.ci, func(rec recording.Record) error {
		rec.Data = bytes.Clone(rec.Data)
		p.recs = append(p.recs, rec)
		return nil
	})
	if errors.Is(err, recording.ErrDamaged) {
		p.damage, p.recs = err, nil
		p.ci = len(p.r.Chunks) // nothing after a damaged chunk plays
		return nil
	}
	return err
}

// advance applies the records up to t, screen messages gathered into one batch.
func (p *Player) advance(t time.Duration) error {
	for p.ci < len(p.r.Chunks) {
		if p.ri >= len(p.recs) {
			p.ci, p.ri = p.ci+1, 0
			if err := p.load(); err != nil {
				return err
			}
			continue
		}
		rec := p.recs[p.ri]
		if rec.Time > t {
			return nil
		}
		p.ri++
		if err := p.apply(rec); err != nil {
			return err
		}
	}
	return nil
}

// apply takes one record into the player's state.
func (p *Player) apply(rec recording.Record) error {
	switch rec.Kind {
	case recording.KindChannel:
		var c recording.Channel
		if json.Unmarshal(rec.Data, &c) != nil || c.Type != protocol.FramebufferChannel {
			return nil
		}
		if !c.Closed {
			p.batch, p.batchN = nil, 0 // what the old channel had not ended never shows
			old := p.dec
			dec, err := rdp.NewDecoder()
			if err != nil {
				return err
			}
			old.Close()
			p.dec, p.follow = dec, rec.Channel
			p.unstream.Close()
			p.unstream = rdp.Unstreamer{}
		} else if rec.Channel == p.follow {
			p.follow = 0 // the image stays as the channel left it
		}
	case recording.KindKeyFrame:
		// Read only when playback starts at its chunk: otherwise the screen is already there.
		if p.dec.Updates() == 0 && p.batchN == 0 && (p.follow == 0 || p.follow == rec.Channel) {
			p.follow = rec.Channel
			if _, err := p.dec.Apply(rec.Data); err != nil {
				return fmt.Errorf("recording key frame at %v: %w", rec.Time, err)
			}
		}
	case recording.KindScreen:
		if rec.Channel != p.follow {
			return nil
		}
		err := p.unstream.Feed(rec.Data, func(m []byte) {
			p.batch = append(p.batch, bytes.Clone(m))
			p.batchN += len(m)
		})
		if err != nil {
			return fmt.Errorf("recording at %v: %w", rec.Time, err)
		}
		if p.batchN > 32<<20 {
			return p.flush()
		}
	}
	return nil
}

// flush applies the gathered screen messages of whole updates: as a viewer does, the player
// shows an update only once it ended (messages of the next one may carry the same time, having
// crossed the gateway in the same piece). The rest waits for its update's end.
func (p *Player) flush() error {
	end := len(p.batch)
	for end > 0 && rdp.MessageName(p.batch[end-1]) != "update-end" {
		end--
	}
	if end == 0 {
		return nil
	}
	err := p.dec.ApplyAll(p.batch[:end])
	rest := p.batch[end:]
	p.batch, p.batchN = append([][]byte(nil), rest...), 0
	for _, m := range p.batch {
		p.batchN += len(m)
	}
	if err != nil {
		return fmt.Errorf("recording at %v: %w", p.pos, err)
	}
	return nil
}

// Marker is a moment worth finding on the timeline.
type Marker struct {
	Time time.Duration `json:"t"`
	// Kind is "input", "clipboard", "file", "consent" or "note".
	Kind string `json:"kind"`
	// Text says what happened, for the marker's title: the file operation and path, the grant.
	Text string `json:"text,omitempty"`
}

// inputGap joins input events closer than this into one marker.
const inputGap = time.Second

// Scan reads the whole recording once and returns its timeline: the markers and the time of
// every screen update the viewer received (on the framebuffer channel opened last), stopping at
// damage.
func (p *Player) Scan() (markers []Marker, updates []time.Duration, err error) {
	var follow uint64
	var unstream rdp.Unstreamer // the followed channel's
	defer func() { unstream.Close() }()
	var lastInput time.Duration = -inputGap
	for i := range p.r.Chunks {
		err := p.r.Records(i, func(rec recording.Record) error {
			switch rec.Kind {
			case recording.KindChannel:
				var c recording.Channel
				if json.Unmarshal(rec.Data, &c) == nil && c.Type == protocol.FramebufferChannel && !c.Closed {
					follow = rec.Channel
					unstream.Close()
					unstream = rdp.Unstreamer{}
				}
			case recording.KindScreen:
				if rec.Channel != follow {
					break
				}
				return unstream.Feed(rec.Data, func(m []byte) {
					if rdp.MessageName(m) == "update-end" {
						updates = append(updates, rec.Time)
					}
				})
			case recording.KindInput:
				if rec.Time-lastInput >= inputGap {
					markers = append(markers, Marker{Time: rec.Time, Kind: "input", Text: rdp.MessageName(rec.Data)})
				}
				lastInput = rec.Time
			case recording.KindClipboard:
				var c recording.Clipboard
				json.Unmarshal(rec.Data, &c)
				dir := "from the person"
				if c.ToAgent {
					dir = "to the person"
				}
				markers = append(markers, Marker{Time: rec.Time, Kind: "clipboard", Text: fmt.Sprintf("clipboard %s, %d bytes", dir, c.Size)})
			case recording.KindFile:
				var f struct {
					Kind  string            `json:"kind"`
					Attrs map[string]string `json:"attrs"`
				}
				json.Unmarshal(rec.Data, &f)
				markers = append(markers, Marker{Time: rec.Time, Kind: "file", Text: f.Kind + " " + f.Attrs["path"]})
			case recording.KindConsent:
				var c map[string]string
				json.Unmarshal(rec.Data, &c)
				markers = append(markers, Marker{Time: rec.Time, Kind: "consent", Text: strings.TrimSpace("allowed " + c["grant"] + " " + c["note"])})
			case recording.KindNote:
				var n recording.Note
				json.Unmarshal(rec.Data, &n)
				markers = append(markers, Marker{Time: rec.Time, Kind: "note", Text: n.Text})
			}
			return nil
		})
		if errors.Is(err, recording.ErrDamaged) {
			p.damage = err
			break
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return markers, updates, nil
}
