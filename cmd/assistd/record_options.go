package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/sshd"
)

// recordOptions are assistd serve's recording flags (docs/recording.md).
type recordOptions struct {
	mode          string
	dir           string
	retention     string
	clipboardText bool
}

func (o *recordOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.mode, "record", "on", "record one-time sessions: off, on, or required (a session that cannot be recorded does not start, or ends)")
	f.StringVar(&o.dir, "recordings", "", "directory of the recordings (default: DATA/recordings)")
	f.StringVar(&o.retention, "record-retention", "", "remove recordings older than this (90d, 720h; default: keep them), each removal audited")
	f.BoolVar(&o.clipboardText, "record-clipboard-text", false, "keep clipboard text in recordings, not only its size")
}

// recordingsDir is where the data directory keeps recordings unless --recordings says otherwise.
func (d dataDir) recordingsDir() string { return filepath.Join(string(d), "recordings") }

func (o *recordOptions) config(d dataDir, log *slog.Logger) (sshd.RecordConfig, error) {
	if o.mode == "" {
		o.mode = "on" // the flag's default, for callers that build the options themselves
	}
	mode, err := sshd.ParseRecordMode(o.mode)
	if err != nil {
		return sshd.RecordConfig{}, &cli.Usage{Err: fmt.Errorf("--record: %w", err)}
	}
	retention, err := parseRetention(o.retention)
	if err != nil {
		return sshd.RecordConfig{}, &cli.Usage{Err: fmt.Errorf("--record-retention: %w", err)}
	}
	dir := o.dir
	if dir == "" {
		dir = d.recordingsDir()
	}
	if mode != sshd.RecordOff {
		// Made here so a missing directory is not a refused session; an unwritable one shows
		// at the first session (recording.failed), and with required refuses it.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			log.Warn("recordings directory", "dir", dir, "err", err)
		}
	}
	log.Info("session recording", "mode", mode.String(), "dir", dir, "retention", retention.String())
	return sshd.RecordConfig{Mode: mode, Dir: dir, ClipboardText: o.clipboardText, Retention: retention}, nil
}

// parseRetention reads 90d or a Go duration; empty is zero (keep).
func parseRetention(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q: want a number of days like 90d, or a duration like 720h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a number of days like 90d, or a duration like 720h", s)
	}
	return d, nil
}
