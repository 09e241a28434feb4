package sshd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/assistkit/assist/internal/recording"
	"github.com/assistkit/assist/sshd/internal/recorder"
	"github.com/assistkit/assist/tickets"
)

// RecordMode is whether one-time sessions are recorded.
type RecordMode int

const (
	// RecordOff records nothing.
	RecordOff RecordMode = iota
	// RecordOn records every session; when the recording cannot be written the session goes
	// on unrecorded, and the audit trail says so.
	RecordOn
	// RecordRequired fails closed: a session whose recording cannot be started does not
	// start, and one whose recording fails ends at once.
	RecordRequired
)

// ParseRecordMode reads off, on or required.
func ParseRecordMode(s string) (RecordMode, error) {
	switch s {
	case "off":
		return RecordOff, nil
	case "on":
		return RecordOn, nil
	case "required":
		return RecordRequired, nil
	}
	return 0, fmt.Errorf("record mode %q: want off, on or required", s)
}

func (m RecordMode) String() string { return [...]string{"off", "on", "required"}[m] }

// RecordConfig is the recording policy (docs/recording.md).
type RecordConfig struct {
	Mode RecordMode
	// Dir holds one file per session, named after its credential's ID.
	Dir string
	// ClipboardText keeps clipboard text in recordings; without it only sizes.
	ClipboardText bool
	// Create opens a new recording file; nil creates it, failing if it exists.
	Create func(path string) (io.WriteCloser, error)
	// KeyFrameRatio tunes key frames (tests and benchmarks); zero takes the recorder's default.
	KeyFrameRatio int
	// Retention: recordings whose last write is older are removed (recording.pruned), checked
	// at start and every PruneEvery (1h). Zero keeps them.
	Retention  time.Duration
	PruneEvery time.Duration
}

// startRecording starts the session's recording as the policy says. The error is what the
// technician is told when recording is required and cannot start.
func (s *Server) startRecording(ss *session) *sessionEnd {
	rc := s.cfg.Record
	if rc.Mode == RecordOff {
		return nil
	}
	meta := recording.Meta{Session: ss.cred.ID, Request: ss.cred.RequestCode, Technician: ss.cred.Technician, Started: s.cfg.Now().UTC()}
	rec, err := recorder.Start(rc.Dir, meta, recorder.Options{Logger: ss.log, ClipboardText: rc.ClipboardText, Create: rc.Create, KeyFrameRatio: rc.KeyFrameRatio})
	if err == nil {
		ss.rec = rec
		s.audit(tickets.Event{Kind: "recording.started", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
			Attrs: map[string]string{"credential": ss.cred.ID, "file": rec.File(), "mode": rc.Mode.String()}})
		go ss.watchRecording(rec)
		return nil
	}
	s.audit(tickets.Event{Kind: "recording.failed", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: map[string]string{"credential": ss.cred.ID, "reason": clipReason(err), "mode": rc.Mode.String()}})
	if rc.Mode != RecordRequired {
		ss.log.Warn("session goes on unrecorded", "err", err)
		return nil
	}
	// The credential was not used for anything: once the recording can be written, it works.
	return &sessionEnd{Reason: "this gateway records every session and cannot record now: " + recordingTrouble(err),
		State: tickets.CredentialIssued}
}

// recordingTrouble says what went wrong with a recording in words for a technician.
func recordingTrouble(err error) string {
	switch {
	case os.IsPermission(err):
		return "the recordings directory is not writable (ask the gateway's admin)"
	case isDiskFull(err):
		return "the recordings disk is full (ask the gateway's admin)"
	}
	return clipReason(err)
}

// writeTrouble says in few words (the person reads them too) why a recording could not be
// written on: the audit trail has the whole error.
func writeTrouble(err error) string {
	var pe *os.PathError
	switch {
	case os.IsPermission(err):
		return "the recordings directory is not writable"
	case isDiskFull(err):
		return "the recordings disk is full"
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return "it could not be written"
}

// clipReason bounds a recording error for the audit trail; it names a path of the gateway's
// own configuration, so it is kept longer than what peers send.
func clipReason(err error) string {
	if s := err.Error(); len(s) > 512 {
		return s[:512] + "…"
	}
	return err.Error()
}

// watchRecording reacts to a recording that stops during the session: with RecordRequired the
// session ends at once; with RecordOn it goes on, and the audit trail and the log say so.
func (ss *session) watchRecording(rec *recorder.Recorder) {
	select {
	case <-rec.Failed():
	case <-ss.ctx.Done():
		return
	}
	err := rec.Err()
	ss.s.audit(tickets.Event{Kind: "recording.failed", Actor: ss.cred.Technician, Request: ss.cred.RequestCode,
		Attrs: map[string]string{"credential": ss.cred.ID, "reason": clipReason(err), "mode": ss.s.cfg.Record.Mode.String()}})
	if ss.s.cfg.Record.Mode == RecordRequired {
		ss.end(spent("the recording failed and this gateway requires one: " + writeTrouble(err)))
		return
	}
	ss.log.Warn("recording stopped; the session goes on unrecorded", "err", err)
}

// sealRecording closes the session's recording and puts its hash in the audit trail, so that an
// edited or cut file shows against it.
func (ss *session) sealRecording(reason string) {
	if ss.rec == nil {
		return
	}
	sum, err := ss.rec.Close(reason)
	attrs := map[string]string{"credential": ss.cred.ID, "file": ss.rec.File(), "hash": sum.Hash.String(),
		"chunks": strconv.Itoa(sum.Chunks), "bytes": strconv.FormatInt(sum.Bytes, 10), "duration_ms": strconv.FormatInt(sum.Duration.Milliseconds(), 10)}
	if err != nil {
		attrs["error"] = clipReason(err)
	}
	ss.s.audit(tickets.Event{Kind: "recording.saved", Actor: ss.cred.Technician, Request: ss.cred.RequestCode, Attrs: attrs})
}

// tap returns the splice options that record a desktop channel, and what to call when it ends.
func (ss *session) tap(typ string, o spliceOptions) (spliceOptions, func()) {
	if ss.rec == nil {
		return o, func() {}
	}
	t := ss.rec.OpenChannel(typ)
	o.toAgent, o.toTech = t.ToAgent, t.ToTech
	return o, t.Close
}

func isDiskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }
