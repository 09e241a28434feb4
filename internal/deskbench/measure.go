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

	"github.com/assistkit/assist/internal/workload"
	"github.com/assistkit/assist/rdp"
)

// result is one workload's figures.
type result struct {
	mode           workload.Mode
	changes, seen  int
	updates, bytes int
	elapsed        time.Duration
	latencies      []time.Duration
}

func (r result) row() string {
	secs := r.elapsed.Seconds()
	perUpdate, perChange := "-", "-"
	if r.updates > 0 {
		perUpdate = fmt.Sprint(r.bytes / r.updates)
	}
	if r.changes > 0 {
		perChange = fmt.Sprint(r.bytes / r.changes)
	}
	p50, p99 := "-", "-"
	if len(r.latencies) > 0 {
		slices.Sort(r.latencies)
		ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
		p50, p99 = ms(r.latencies[len(r.latencies)/2]), ms(r.latencies[len(r.latencies)*99/100])
	}
	return fmt.Sprintf("%s\t%d\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t", r.mode, r.changes, r.seen,
		float64(r.updates)/secs, float64(r.bytes)/secs/1000, perUpdate, perChange, p50, p99)
}

// pending are the workload's changes the viewer has not shown yet, fed from the record as the
// workload writes it.
type pending struct {
	mu      sync.Mutex
	changes []workload.Change
	total   int
	started chan struct{} // closed when change 0 (the initial scene) is in the X server
}

func (p *pending) add(c workload.Change) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.N == 0 {
		close(p.started)
		return
	}
	p.changes = append(p.changes, c)
	p.total++
}

// check reads each pending change's marker pixel from the viewer's image: showing its number,
// the change has arrived at t; showing a later number, it was overwritten before a frame
// carried it (a stale frame skipped), which is not a latency.
func (p *pending) check(fb *rdp.FramebufferClient, t time.Time) (lat []time.Duration, seen int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	px := image.NewRGBA(image.Rect(0, 0, 1, 1))
	keep := p.changes[:0]
	for _, c := range p.changes {
		px.Rect = image.Rect(c.MX, c.MY, c.MX+1, c.MY+1)
		fb.CopyTo(px)
		n := workload.MarkerNumber(px.Pix[0], px.Pix[1], px.Pix[2])
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

// measure runs one workload for d with a fresh session and viewer.
func (r *rig) measure(ctx context.Context, mode workload.Mode, d time.Duration, inFlight int) (result, error) {
	s, err := r.session(ctx)
	if err != nil {
		return result{}, err
	}
	defer s.Close()
	fb, err := s.Framebuffer(inFlight)
	if err != nil {
		return result{}, err
	}
	defer fb.Close()

	p := &pending{started: make(chan struct{})}
	pr, pw := io.Pipe()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	werr := make(chan error, 1)
	go func() {
		werr <- workload.Run(wctx, workload.Options{Display: r.x.Display, Mode: mode, Duration: d + 3*time.Second, Out: pw, Logger: r.log})
		pw.Close()
	}()
	go func() {
		dec := json.NewDecoder(pr)
		for {
			var c workload.Change
			if dec.Decode(&c) != nil {
				io.Copy(io.Discard, pr)
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
	if err := r.settle(ctx, fb); err != nil {
		return result{}, err
	}
	p.reset()
	res := result{mode: mode}
	start := time.Now()
	deadline := start.Add(d)
	for time.Now().Before(deadline) {
		nctx, ncancel := context.WithDeadline(ctx, deadline)
		u, err := fb.Next(nctx)
		ncancel()
		if err != nil {
			if nctx.Err() != nil {
				break
			}
			return result{}, err
		}
		res.updates++
		for _, rc := range u.Rects {
			res.bytes += rc.Bytes
		}
		if u.Cursor != nil {
			res.bytes += u.Cursor.Bytes
		}
		lat, seen := p.check(fb, time.Unix(0, u.Time))
		res.latencies = append(res.latencies, lat...)
		res.seen += seen
	}
	res.elapsed = time.Since(start)
	p.mu.Lock()
	res.changes = p.total
	p.mu.Unlock()
	cancel()
	return res, nil
}

// settle pulls and drops updates for a second, so the initial scene and the viewer's first
// full frame are not counted; a busy workload never goes quiet, so no quiet spell is awaited.
func (r *rig) settle(ctx context.Context, fb *rdp.FramebufferClient) error {
	sctx, cancel := context.WithTimeout(ctx, time.Second)
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
}
