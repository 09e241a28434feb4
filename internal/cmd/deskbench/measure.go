//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/assistkit/assist/internal/harness/workload"
	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/viewer"
)

// result is one cell's figures: a workload on a link.
type result struct {
	link           string
	mode           workload.Mode
	changes, seen  int
	updates, bytes int
	elapsed        time.Duration
	latencies      []time.Duration
	agentCPU       time.Duration
	gatewayCPU     time.Duration
	viewerCPU      time.Duration
}

// The table's columns; CPU is a share of one core, for the agent, the gateway (with the link's
// emulation) and the viewer.
const (
	header = "link       workload  changes   seen  updates/s     KB/s  bytes/update   p50 ms   p95 ms   p99 ms  agent  gateway  viewer"
	rowFmt = "%-10s %-8s %8d %6d %10.1f %8.1f %13s %8s %8s %8s %6s %8s %7s"
)

func (r result) row() string {
	secs := r.elapsed.Seconds()
	perUpdate := "-"
	if r.updates > 0 {
		perUpdate = fmt.Sprint(r.bytes / r.updates)
	}
	p50, p95, p99 := "-", "-", "-"
	if n := len(r.latencies); n > 0 {
		slices.Sort(r.latencies)
		ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
		p50, p95, p99 = ms(r.latencies[n/2]), ms(r.latencies[n*95/100]), ms(r.latencies[n*99/100])
	}
	pct := func(d time.Duration) string { return fmt.Sprintf("%.0f%%", 100*d.Seconds()/secs) }
	return fmt.Sprintf(rowFmt, r.link, r.mode, r.changes, r.seen,
		float64(r.updates)/secs, float64(r.bytes)/secs/1000, perUpdate, p50, p95, p99,
		pct(r.agentCPU), pct(r.gatewayCPU), pct(r.viewerCPU))
}

// pending are the workload's changes the viewer has not shown yet, fed from the record as the
// workload writes it.
type pending struct {
	mu      sync.Mutex
	changes []workload.Change
	total   int
	started chan struct{} // closed when change 0 (the initial scene) is in the X server

	// A change's record can come after the update that showed it (on loopback the viewer may
	// have it before the workload's line about it is read): such a change is looked for the
	// moment its record comes, and timed at the latest update applied by then.
	fb      *rdp.FramebufferClient // set once measuring
	applied time.Time              // when the latest update was applied
	late    []time.Duration
	nlate   int
}

func (p *pending) add(c workload.Change) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.N == 0 {
		close(p.started)
		return
	}
	p.total++
	if p.fb != nil && shows(p.fb, c) {
		p.late = append(p.late, max(0, p.applied.Sub(time.Unix(0, c.T))))
		p.nlate++
		return
	}
	p.changes = append(p.changes, c)
}

// shows reports whether the viewer's image holds change c's marker.
func shows(fb *rdp.FramebufferClient, c workload.Change) bool {
	return markerAt(fb, c) == c.N
}

// markerAt reads the number in the viewer's image at c's marker pixel.
func markerAt(fb *rdp.FramebufferClient, c workload.Change) int {
	px := image.NewRGBA(image.Rect(c.MX, c.MY, c.MX+1, c.MY+1))
	fb.CopyTo(px)
	return workload.MarkerNumber(px.Pix[0], px.Pix[1], px.Pix[2])
}

// check reads each pending change's marker pixel from the viewer's image: showing its number,
// the change has arrived at t; showing a later number, it was overwritten before a frame
// carried it (a stale frame skipped), which is not a latency.
func (p *pending) check(fb *rdp.FramebufferClient, t time.Time) (lat []time.Duration, seen int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fb, p.applied = fb, t
	lat, seen = append(lat, p.late...), p.nlate
	p.late, p.nlate = p.late[:0], 0
	keep := p.changes[:0]
	for _, c := range p.changes {
		n := markerAt(fb, c)
		switch {
		case n == c.N:
			// The viewer may apply a change before the workload's own sync returns; such a
			// change arrived within the measurement's resolution, counted as zero.
			lat = append(lat, max(0, t.Sub(time.Unix(0, c.T))))
			seen++
		case n > c.N && n-c.N < 1<<16:
		default:
			keep = append(keep, c)
		}
	}
	p.changes = keep
	return lat, seen
}

// measure runs one workload for d on one link with a fresh session and viewer. settle is how
// long the viewer pulls before the clock starts, so the first full frame is not counted.
func (r *rig) measure(ctx context.Context, link string, mode workload.Mode, d, settle time.Duration, inFlight int) (result, error) {
	o, err := r.otc(link)
	if err != nil {
		return result{}, err
	}
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		return result{}, err
	}
	defer s.Close()
	fb, err := s.Framebuffer(inFlight)
	if err != nil {
		return result{}, err
	}
	defer fb.Close()

	w, err := startChild(r.roleArgs("workload", "-display", r.x.Display, "-mode", string(mode),
		"-duration", (settle + d + 3*time.Second).String())...)
	if err != nil {
		return result{}, err
	}
	defer w.stop()
	p := &pending{started: make(chan struct{})}
	werr := make(chan error, 1)
	go func() {
		dec := json.NewDecoder(w.Out)
		for {
			var c workload.Change
			if err := dec.Decode(&c); err != nil {
				werr <- err
				io.Copy(io.Discard, w.Out)
				return
			}
			p.add(c)
		}
	}()

	// Settle: pull until the initial scene is drawn and the viewer has caught up with it.
	select {
	case <-p.started:
	case err := <-werr:
		return result{}, fmt.Errorf("workload: %w", err)
	}
	if err := pull(ctx, fb, settle); err != nil {
		return result{}, err
	}
	p.reset()
	res := result{link: link, mode: mode}
	agent0, gw0, self0, wire0 := r.ag.cpu(), r.gw.cpu(), selfCPU(), fb.WireBytes()
	start := time.Now()
	deadline := start.Add(d)
	for time.Now().Before(deadline) {
		nctx, ncancel := context.WithDeadline(ctx, deadline)
		_, err := fb.Next(nctx)
		ncancel()
		if err != nil {
			if nctx.Err() != nil {
				break
			}
			return result{}, err
		}
		applied := time.Now()
		res.updates++
		lat, seen := p.check(fb, applied)
		res.latencies = append(res.latencies, lat...)
		res.seen += seen
	}
	res.elapsed = time.Since(start)
	res.bytes = int(fb.WireBytes() - wire0) // what crossed the channel, compressed as it was
	res.agentCPU, res.gatewayCPU, res.viewerCPU = r.ag.cpu()-agent0, r.gw.cpu()-gw0, selfCPU()-self0
	p.mu.Lock()
	res.changes = p.total
	p.mu.Unlock()
	return res, nil
}

// pull takes and drops updates for d: a busy workload never goes quiet, so no quiet spell is
// awaited.
func pull(ctx context.Context, fb *rdp.FramebufferClient, d time.Duration) error {
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		if _, err := fb.Next(sctx); err != nil {
			if sctx.Err() != nil && ctx.Err() == nil {
				return nil
			}
			return err
		}
	}
}

// reset forgets the changes made while settling; only later ones are measured.
func (p *pending) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.changes, p.total = p.changes[:0], 0
	p.late, p.nlate = p.late[:0], 0
}
