package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/assistkit/assist/viewer"
)

func TestRenderProgressFitsTheTerminal(t *testing.T) {
	p := viewer.CopyProgress{Path: "/var/log/a-rather-long-file-name-for-a-log.txt", Done: 512 << 20, Total: 1 << 30, FilesDone: 2, FilesTotal: 5}
	for _, w := range []int{20, 40, 60, 80, 200} {
		line := renderProgress(p, 100<<20, 5*time.Second, w)
		if n := utf8.RuneCountInString(line); n != w-1 {
			t.Errorf("width %d: line has %d runes: %q", w, n, line)
		}
	}
	line := renderProgress(p, 100<<20, 5*time.Second, 100)
	for _, want := range []string{"[3/5] a-rather", " 50% ", "512 MiB", "100 MiB/s", "00:05 ETA", "|====="} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
}

func TestRenderProgressKeepsEscapesOffTheTerminal(t *testing.T) {
	p := viewer.CopyProgress{Path: "/tmp/\x1b[2Jevil\rname", Done: 1, Total: 2, FilesTotal: 1}
	line := renderProgress(p, 0, 0, 80)
	if strings.ContainsAny(line, "\x1b\r") || !strings.Contains(line, "?[2Jevil?name") {
		t.Fatalf("line %q", line)
	}
}

func TestProgressBarThrottlesAndFinishes(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	b := newProgressBar(&out, func() int { return 80 }, func() time.Time { return now })
	for i := int64(1); i <= 1000; i++ {
		now = now.Add(time.Millisecond)
		b.Update(viewer.CopyProgress{Path: "f", Done: i << 10, Total: 1000 << 10, FileSize: 1000 << 10, FilesTotal: 1})
	}
	if draws := strings.Count(out.String(), "\r"); draws > 11 {
		t.Fatalf("%d redraws in one second, want at most 11", draws)
	}
	b.Done(viewer.CopyStats{Files: 1, Bytes: 1000 << 10}, time.Second, true)
	last := out.String()[strings.LastIndex(out.String(), "\r"):]
	if !strings.Contains(last, "100%") || !strings.HasSuffix(last, "\n") {
		t.Fatalf("last line %q, want 100%% and a newline", last)
	}
}

func TestHumanBytesAndClock(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.50 KiB", 100 << 20: "100 MiB", 15 << 30: "15.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "00:00", 65 * time.Second: "01:05", 3723 * time.Second: "1:02:03"} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}
