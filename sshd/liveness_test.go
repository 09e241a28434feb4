package sshd

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

type namedConn struct {
	ssh.Conn // never called: the sweep only names whom to ask and drop
	name     string
}

// TestLivenessAsksTheSilentAndDropsTheUnanswering drives the sweep with a clock of its own: a
// peer heard from every second is never asked; one that answers each question is asked every
// 8–8.5 s and kept; one that never answers is asked 8–8.5 s after its last word and dropped
// 5–5.5 s later, within the 15 s the agent link promises, and then forgotten. A sweep that comes
// late catches up on the slots it missed.
func TestLivenessAsksTheSilentAndDropsTheUnanswering(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	l := newLiveness(&Config{KeepaliveSilence: 8 * time.Second, KeepaliveTimeout: 5 * time.Second}, t0)
	names := []string{"chatty", "answering", "silent", "late"}
	heard := map[string]*atomic.Int64{}
	for _, n := range names {
		heard[n] = &atomic.Int64{}
		heard[n].Store(t0.UnixNano())
		l.watch(context.Background(), namedConn{name: n}, heard[n], slog.New(slog.DiscardHandler))
	}
	asked := map[string][]time.Duration{}
	dropped := map[string][]time.Duration{}
	tick := func(at time.Duration) {
		now := t0.Add(at)
		heard["chatty"].Store(now.UnixNano())
		if at <= 40*time.Second {
			heard["late"].Store(now.UnixNano())
		}
		ask, drop := l.sweep(now)
		for _, c := range ask {
			n := c.(namedConn).name
			asked[n] = append(asked[n], at)
			if n == "answering" {
				heard[n].Store(now.Add(10 * time.Millisecond).UnixNano())
			}
		}
		for _, c := range drop {
			n := c.(namedConn).name
			dropped[n] = append(dropped[n], at)
		}
	}
	for at := time.Second / 2; at <= 40*time.Second; at += time.Second / 2 {
		tick(at)
	}
	if len(asked["chatty"])+len(dropped["chatty"]) > 0 {
		t.Errorf("chatty peer asked at %v, dropped at %v; want neither", asked["chatty"], dropped["chatty"])
	}
	if len(dropped["answering"]) > 0 || len(asked["answering"]) < 4 {
		t.Errorf("answering peer asked at %v, dropped at %v; want asked every 8-8.5 s, never dropped", asked["answering"], dropped["answering"])
	}
	for i, at := range asked["answering"] {
		prev := time.Duration(0)
		if i > 0 {
			prev = asked["answering"][i-1]
		}
		if gap := at - prev; gap < 8*time.Second || gap > 8500*time.Millisecond {
			t.Errorf("answering peer asked %v after the last word, want 8-8.5 s", gap)
		}
	}
	if a, d := asked["silent"], dropped["silent"]; len(a) != 1 || len(d) != 1 || a[0] < 8*time.Second || a[0] > 8500*time.Millisecond || d[0]-a[0] < 5*time.Second || d[0] > 14*time.Second {
		t.Errorf("silent peer asked at %v, dropped at %v; want asked once at 8-8.5 s and dropped 5-5.5 s later", a, d)
	}

	// The peer chatty until 40 s goes silent and the sweeps stop for 30 s: the late one asks it
	// at once, the next drops it once the timeout has passed.
	if len(asked["late"])+len(dropped["late"]) > 0 {
		t.Errorf("peer heard until 40 s asked at %v, dropped at %v; want neither by then", asked["late"], dropped["late"])
	}
	at := 40 * time.Second
	tick(at + 30*time.Second)
	tick(at + 36*time.Second)
	if a, d := asked["late"], dropped["late"]; len(a) != 1 || a[0] != at+30*time.Second || len(d) != 1 || d[0] != at+36*time.Second {
		t.Errorf("after a late sweep: peer asked at %v, dropped at %v; want asked at %v and dropped at %v", a, d, at+30*time.Second, at+36*time.Second)
	}
}
