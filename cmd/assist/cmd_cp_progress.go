package main

import (
	"fmt"
	"io"
	"math"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/assistkit/assist/viewer"
)

// progressBar draws one line, redrawn in place with a carriage return at most ten times a
// second: the file, a bar, percent, bytes, speed and time left for the whole copy.
type progressBar struct {
	w     io.Writer
	width func() int
	now   func() time.Time

	start    time.Time
	lastDraw time.Time
	lastDone int64
	rate     float64 // bytes per second, smoothed
	last     viewer.CopyProgress
	drawn    bool
}

func newProgressBar(w io.Writer, width func() int, now func() time.Time) *progressBar {
	t := now()
	return &progressBar{w: w, width: width, now: now, start: t, lastDraw: t}
}

// Update takes a progress report; it is called for every chunk, so it mostly returns at once.
func (b *progressBar) Update(p viewer.CopyProgress) {
	b.last = p
	t := b.now()
	dt := t.Sub(b.lastDraw)
	if dt < 100*time.Millisecond && b.drawn {
		return
	}
	b.smooth(p.Done, dt)
	b.lastDraw, b.lastDone = t, p.Done
	b.draw(p, t.Sub(b.start))
}

// smooth keeps an exponential average of the speed over about three seconds, so the time left
// does not jump with every burst.
func (b *progressBar) smooth(done int64, dt time.Duration) {
	if dt <= 0 {
		return
	}
	inst := float64(done-b.lastDone) / dt.Seconds()
	if b.rate == 0 {
		b.rate = inst
		return
	}
	a := 1 - math.Exp(-dt.Seconds()/3)
	b.rate += a * (inst - b.rate)
}

func (b *progressBar) draw(p viewer.CopyProgress, elapsed time.Duration) {
	line := renderProgress(p, b.rate, elapsed, b.width())
	fmt.Fprintf(b.w, "\r%s", line)
	b.drawn = true
}

// Done draws the last state, ends the line and, for several files, sums up.
func (b *progressBar) Done(s viewer.CopyStats, elapsed time.Duration, ok bool) {
	if !b.drawn {
		return
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.Bytes) / elapsed.Seconds()
	}
	if ok {
		b.last.Done, b.last.Total = s.Bytes, s.Bytes
	}
	fmt.Fprintf(b.w, "\r%s\n", renderProgress(b.last, rate, elapsed, b.width()))
	if ok && s.Files > 1 {
		fmt.Fprintf(b.w, "%d files, %s in %s (%s/s)\n", s.Files, humanBytes(s.Bytes), clock(elapsed), humanBytes(int64(rate)))
	}
}

// renderProgress lays out one line exactly width-1 runes wide (the last column would wrap on
// some terminals): the name takes what the numbers leave, the bar what is left after that.
func renderProgress(p viewer.CopyProgress, rate float64, elapsed time.Duration, width int) string {
	width--
	pct := 100.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	eta := "--:--"
	switch {
	case p.Done >= p.Total:
		eta = clock(elapsed) + "    "
	case rate > 0:
		eta = clock(time.Duration(float64(p.Total-p.Done)/rate*float64(time.Second))) + " ETA"
	}
	nums := fmt.Sprintf(" %3.0f%% %9s %9s/s %s", pct, humanBytes(p.Done), humanBytes(int64(rate)), eta)
	name := displayName(p.Path)
	if p.FilesTotal > 1 {
		name = fmt.Sprintf("[%d/%d] %s", min(p.FilesDone+1, p.FilesTotal), p.FilesTotal, name)
	}
	room := width - utf8.RuneCountInString(nums)
	if room < 1 {
		return fitRunes(strings.TrimLeft(nums, " "), width)
	}
	nameRoom := room
	barRoom := 0
	if room >= 40 {
		barRoom = min(room/3, 32)
		nameRoom = room - barRoom - 1
	}
	out := fitRunes(name, nameRoom)
	if barRoom > 2 {
		out += " " + bar(pct, barRoom)
	}
	return out + nums
}

func bar(pct float64, n int) string {
	inner := n - 2
	full := int(math.Round(pct / 100 * float64(inner)))
	full = max(0, min(full, inner))
	return "|" + strings.Repeat("=", full) + strings.Repeat(" ", inner-full) + "|"
}

// displayName is the base name of a local or remote path, made printable: remote names come
// from the other computer and must not move the cursor.
func displayName(p string) string {
	b := path.Base(filepath.ToSlash(p))
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, b)
}

// fitRunes pads or cuts s to exactly n runes, marking a cut with "…".
func fitRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	c := utf8.RuneCountInString(s)
	if c <= n {
		return s + strings.Repeat(" ", n-c)
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// humanBytes writes n in binary units, three significant digits: 999 B, 1.5 KiB, 12.3 MiB.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= 1024
		if v < 1024 || u == "PiB" {
			if v < 10 {
				return fmt.Sprintf("%.2f %s", v, u)
			}
			if v < 100 {
				return fmt.Sprintf("%.1f %s", v, u)
			}
			return fmt.Sprintf("%.0f %s", v, u)
		}
	}
	return ""
}

// clock writes d as mm:ss, or h:mm:ss from an hour.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
