package sshd

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
)

// A session's limits (Config.SessionMax, SessionIdle) end it through its context, like every
// other end, so both sides hear the reason and the audit records it as the session's cause.
// In the last minutes before a limit, the viewers and the person's agent are told how long is
// left (protocol.LimitGlobal, LimitRequest); input that pushes an idle end away says so too.
// Idle means no input and no file operation from the technician: the screen's update requests
// flow all the time and do not count, nor does chat.

// limitState is what the session last said about an end that is near.
type limitState struct {
	end time.Time // zero: nothing said, or said that no end is near
	why string
}

// touch records input or a file operation from the technician.
func (ss *session) touch() {
	// The watcher hears of the first (the idle clock starts) and of input under a warning.
	if ss.lastInput.Swap(time.Now().UnixNano()) == 0 || ss.warned.Load() {
		select {
		case ss.poke <- struct{}{}:
		default:
		}
	}
}

// activity counts every write as the technician's activity.
type activity struct {
	w     io.Writer
	touch func()
}

func (a activity) Write(p []byte) (int, error) {
	a.touch()
	return a.w.Write(p)
}

// active wraps the writer of technician→agent bytes of a channel whose traffic is activity.
func (ss *session) active(next func(io.Writer) io.Writer) func(io.Writer) io.Writer {
	return func(w io.Writer) io.Writer {
		if next != nil {
			w = next(w)
		}
		return activity{w, ss.touch}
	}
}

// watchLimits ends the session at its limits and warns before them, until the session ends.
func (ss *session) watchLimits(start time.Time) {
	cfg := &ss.s.cfg
	if cfg.SessionMax <= 0 && cfg.SessionIdle <= 0 {
		return
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ss.ctx.Done():
			return
		case <-t.C:
		case <-ss.poke:
		}
		now := time.Now()
		end, limit, why, ending := ss.nextLimit(start, now)
		left := end.Sub(now)
		if left <= 0 {
			ss.cancel(spent(ending))
			return
		}
		warn := warnBefore(limit)
		if left <= warn {
			ss.tellLimit(limitState{end: end, why: why})
			t.Reset(left)
			continue
		}
		ss.tellLimit(limitState{})
		t.Reset(left - warn)
	}
}

// nextLimit is the nearest end, the limit that sets it, and the words for its warning and end.
func (ss *session) nextLimit(start, now time.Time) (end time.Time, limit time.Duration, why, ending string) {
	cfg := &ss.s.cfg
	end = time.Unix(0, math.MaxInt64)
	if cfg.SessionMax > 0 {
		end, limit = start.Add(cfg.SessionMax), cfg.SessionMax
		why = fmt.Sprintf("the session's time limit of %s", words(cfg.SessionMax))
		ending = fmt.Sprintf("the session reached the gateway's time limit of %s", words(cfg.SessionMax))
	}
	if last := ss.lastInput.Load(); cfg.SessionIdle > 0 && last != 0 {
		if idleEnd := time.Unix(0, last).Add(cfg.SessionIdle); idleEnd.Before(end) {
			end, limit = idleEnd, cfg.SessionIdle
			why = fmt.Sprintf("no input or file operation from the technician for %s", words(cfg.SessionIdle))
			ending = fmt.Sprintf("the session was idle for %s (no input or file operation from the technician)", words(cfg.SessionIdle))
		}
	}
	return end, limit, why, ending
}

// warnBefore is how long before a limit's end both sides are told: five minutes, or half the
// limit when it is shorter than ten.
func warnBefore(limit time.Duration) time.Duration { return min(5*time.Minute, limit/2) }

// tellLimit tells the viewers and the agent st, unless they were told it already.
func (ss *session) tellLimit(st limitState) {
	ss.mu.Lock()
	if ss.limit == st {
		ss.mu.Unlock()
		return
	}
	ss.limit = st
	ss.warned.Store(!st.end.IsZero())
	l := ss.link
	ss.mu.Unlock()
	msg := st.msg(time.Now())
	ss.log.Info("session limit", "left", time.Duration(msg.LeftMillis)*time.Millisecond, "why", st.why)
	ss.tellConns(protocol.LimitGlobal, ssh.Marshal(msg))
	if l != nil {
		l.ch.SendRequest(protocol.LimitRequest, false, l.ac.encode(msg))
	}
}

// msg is st as the wire says it at now.
func (st limitState) msg(now time.Time) protocol.LimitMsg {
	if st.end.IsZero() {
		return protocol.LimitMsg{}
	}
	left := max(st.end.Sub(now).Milliseconds(), 1)
	return protocol.LimitMsg{LeftMillis: uint32(min(left, math.MaxUint32)), Why: st.why}
}

// words is a limit as a person writes it: 2h, 15m, 1h30m, 2s.
func words(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
