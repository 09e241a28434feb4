package sshd

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// liveness drops agent connections whose peer went silent, and keeps the link of every live one
// in use. Twice a second it asks each peer silent for KeepaliveSilence (8 s) whether it is
// there, and drops it when the question goes unanswered for KeepaliveTimeout (5 s): a dead
// link is noticed within 14 s of the peer's last word.
//
// The gateway asks first: an agent asks only when it has heard nothing for longer than the
// gateway's silence (agent.Config.KeepaliveSilence), so on a live link it never needs to. The
// questions of a sweep go out together and their answers come back together, so 20,000 idle
// agents cost the gateway bursts of work twice a second rather than 2,500 separate wake-ups
// (each a thread woken and put back to sleep) for agents asking on their own clocks.
//
// A sweep looks only at the peers that may be due: each waits on a wheel of half-second slots
// for the moment it could first be silent (its last read plus the silence) or its question
// unanswered. Looking at all of them twice a second was 9% of an idle gateway's CPU at 20,000
// agents, most of it a cache miss each.
type liveness struct {
	silence, timeout, tick int64 // nanoseconds

	mu     sync.Mutex
	wheel  [][]*peer // slot i+1 is due a tick after slot i, round from cursor
	cursor int       // the next slot due
	next   int64     // when it is due, unix nanoseconds
}

type peer struct {
	sc    ssh.Conn
	heard *atomic.Int64 // the socket's last read, unix nanoseconds (handshakeConn.lastRead)
	asked int64         // when the pending question went out, unix nanoseconds; 0 when none is
	gone  bool          // no longer watched; guarded by liveness.mu
	log   *slog.Logger
}

func newLiveness(cfg *Config, now time.Time) *liveness {
	l := &liveness{silence: int64(cfg.KeepaliveSilence), timeout: int64(cfg.KeepaliveTimeout),
		tick: int64(min(time.Second/2, cfg.KeepaliveSilence/5))}
	l.wheel = make([][]*peer, max(l.silence, l.timeout)/l.tick+2)
	l.next = now.UnixNano() + l.tick
	return l
}

// watch keeps sc under watch until ctx ends; heard is the time of its socket's last read.
func (l *liveness) watch(ctx context.Context, sc ssh.Conn, heard *atomic.Int64, log *slog.Logger) {
	p := &peer{sc: sc, heard: heard, log: log}
	l.mu.Lock()
	l.schedule(p, heard.Load()+l.silence)
	l.mu.Unlock()
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		p.gone = true // dropped from the wheel when its slot comes
		l.mu.Unlock()
	})
}

// schedule puts p in the first slot due at or after at (unix nanoseconds), at most a turn of the
// wheel ahead; l.mu is held.
func (l *liveness) schedule(p *peer, at int64) {
	ahead := max(0, (at-l.next+l.tick-1)/l.tick)
	i := (l.cursor + int(min(ahead, int64(len(l.wheel)-1)))) % len(l.wheel)
	l.wheel[i] = append(l.wheel[i], p)
}

// run sweeps every tick until stop is closed, asking and dropping as the sweep says.
func (l *liveness) run(stop <-chan struct{}) {
	t := time.NewTicker(time.Duration(l.tick))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			ask, drop := l.sweep(now)
			for _, sc := range ask {
				// The answer is a read like any other: the peer's next look sees it heard
				// from. A failed send means the connection is going anyway.
				go sc.SendRequest("keepalive@openssh.com", true, nil)
			}
			for _, sc := range drop {
				sc.Close()
			}
		}
	}
}

// sweep takes every slot due by t off the wheel and says which of their peers to ask whether
// they are there and which to drop; the others go back on the wheel for their next moment.
// A late sweep (a busy gateway) catches up on every slot it missed.
func (l *liveness) sweep(t time.Time) (ask, drop []ssh.Conn) {
	now := t.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.next <= now {
		slot := l.cursor
		due := l.wheel[slot]
		l.wheel[slot] = nil
		l.cursor = (l.cursor + 1) % len(l.wheel)
		l.next += l.tick
		for _, p := range due {
			if p.gone {
				continue
			}
			switch last := p.heard.Load(); {
			case last > now-l.silence: // heard from since (the answer, or anything else)
				p.asked = 0
				l.schedule(p, last+l.silence)
			case p.asked == 0:
				p.asked = now
				ask = append(ask, p.sc)
				l.schedule(p, now+l.timeout)
			case now-p.asked >= l.timeout:
				p.log.Info("peer stopped answering keepalives; closing", "silent", time.Duration(now-last).Round(time.Millisecond))
				p.gone = true
				drop = append(drop, p.sc)
			default:
				l.schedule(p, p.asked+l.timeout)
			}
		}
		clear(due)
		if l.wheel[slot] == nil {
			l.wheel[slot] = due[:0] // the slot is a turn ahead now; keep its array
		}
	}
	return ask, drop
}
