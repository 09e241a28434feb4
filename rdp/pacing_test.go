package rdp

import (
	"image"
	"net"
	"testing"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// simLink is a bottleneck of rate bytes a second and a one-way delay, in simulated time: what
// the pacer sees of a real link from the acks.
type simLink struct {
	rate  float64
	delay time.Duration
	free  time.Time // when the link has sent what it was given
}

// carry returns when the viewer acknowledges n bytes handed to the link at t, and the spread it
// reports: how long the bytes took to arrive.
func (l *simLink) carry(n int, t time.Time) (time.Time, time.Duration) {
	start := t
	if l.free.After(t) {
		start = l.free
	}
	spread := time.Duration(float64(n) / l.rate * float64(time.Second))
	l.free = start.Add(spread)
	return l.free.Add(2 * l.delay), spread
}

type simAck struct {
	at     time.Time
	spread time.Duration
}

// TestPacerKeepsAboutARoundTripInFlight drives the pacer with an agent that always has a change
// to send, over simulated links: once measured, the window is about paceGain round trips of the
// link, the link stays busy, and no update waits behind more than the window.
func TestPacerKeepsAboutARoundTripInFlight(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rate   float64 // bytes a second
		delay  time.Duration
		update int
	}{
		{"bad, large updates", 250e3, 75 * time.Millisecond, 60e3},
		{"bad, small updates", 250e3, 75 * time.Millisecond, 5e3},
		{"vpn", 1.25e6, 30 * time.Millisecond, 20e3},
		{"lan", 1e9, 100 * time.Microsecond, 80e3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			link := &simLink{rate: tc.rate, delay: tc.delay}
			var p pacer
			now := time.Unix(1000, 0)
			var acks []simAck // of the updates in flight, oldest first
			var seq uint64
			var sentBytes int
			var worstWait time.Duration
			start := now
			for now.Sub(start) < 20*time.Second {
				if p.open(now) {
					seq++
					p.onSend(seq, tc.update, now)
					ack, spread := link.carry(tc.update, now)
					// What the update waited behind: its own transmission and the round
					// trip aside.
					own := time.Duration(float64(tc.update)/tc.rate*float64(time.Second)) + 2*tc.delay
					worstWait = max(worstWait, ack.Sub(now)-own)
					acks = append(acks, simAck{ack, spread})
					sentBytes += tc.update
					continue
				}
				a := acks[0]
				acks, now = acks[1:], a.at
				if err := p.onAck(seq-uint64(len(acks)), a.spread, now); err != nil {
					t.Fatal(err)
				}
			}
			elapsed := now.Sub(start).Seconds()
			bdp := tc.rate * (2 * tc.delay).Seconds()
			w := float64(p.window(now))
			if w < bdp || w > 2*paceGain*max(bdp, tc.rate*minPaceRTT.Seconds())+minWindow {
				t.Errorf("window %.0f bytes; the link's round trip holds %.0f", w, bdp)
			}
			if got := float64(sentBytes) / elapsed; got < 0.7*tc.rate && tc.rate < 1e8 {
				t.Errorf("carried %.0f bytes/s of a %.0f bytes/s link", got, tc.rate)
			}
			limit := time.Duration((w + float64(tc.update)) / tc.rate * float64(time.Second))
			if worstWait > limit {
				t.Errorf("an update waited %v behind others; the window allows %v", worstWait, limit)
			}
		})
	}
}

func TestPacerRefusesAcksOutOfOrder(t *testing.T) {
	var p pacer
	now := time.Unix(1000, 0)
	p.onSend(1, 100, now)
	p.onSend(2, 100, now)
	if err := p.onAck(2, 0, now); err == nil {
		t.Error("an ack of update 2 before update 1 was taken")
	}
	if err := p.onAck(1, 0, now); err != nil {
		t.Error(err)
	}
	if err := p.onAck(3, 0, now); err == nil {
		t.Error("an ack of an update never sent was taken")
	}
}

// TestFramebufferAcksEachUpdateFromVersion3 checks that a viewer acknowledges every update of an
// agent that agreed to acknowledgements, and that a viewer without the cap sends none and is
// served as before.
func TestFramebufferAcksEachUpdateFromVersion3(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps uint64
		acks bool
	}{
		{"version 3", viewerCaps &^ wire.CapStream, true},
		{"viewer without the ack cap", viewerCaps &^ wire.CapStream &^ wire.CapAck, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFakeScreen(twoMonitors...)
			v, sn, _ := serve(t, s, FramebufferOptions{PollInterval: time.Millisecond})
			acks := make(chan struct{}, 16)
			sn.in.mu.Lock()
			sn.in.onMsg = func(typ wire.Type) {
				if typ == wire.TUpdateAck {
					acks <- struct{}{}
				}
			}
			sn.in.mu.Unlock()
			c := newClientCaps(t, v, 2, tc.caps)
			for i := range 5 {
				s.set(func(img *image.RGBA) { noise(img, image.Rect(0, 0, 64, 64), uint64(i)) })
				next(t, c)
				if !tc.acks {
					continue
				}
				select {
				case <-acks:
				case <-time.After(10 * time.Second):
					t.Fatalf("update %d was not acknowledged", i+1)
				}
			}
			if !samePixels(c, s.snapshot()) {
				t.Error("the viewer does not show the screen")
			}
			if n := sn.in.count(wire.TUpdateAck); !tc.acks && n > 0 {
				t.Errorf("a viewer without the ack cap sent %d acks", n)
			}
		})
	}
}

// TestFramebufferClientSendsNoAcksToVersion2Agent speaks as an agent of version 2 that sets the
// ack bit anyway: the bit means nothing below version 3, so the viewer sends no ack.
func TestFramebufferClientSendsNoAcksToVersion2Agent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sawAck := make(chan struct{}, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		c := newConn(nc)
		if _, err := c.read(); err != nil {
			return
		}
		if c.write(&wire.Hello{Kind: wire.KindFramebuffer, Version: 2, Caps: wire.CapSolid | wire.CapAck},
			&wire.Layout{Format: wire.FormatRGB24, Monitors: []wire.Monitor{{W: 64, H: 64, Primary: true}}}) != nil {
			return
		}
		var seq uint64
		for {
			m, err := c.read()
			if err != nil {
				return
			}
			switch m.(type) {
			case *wire.UpdateAck:
				sawAck <- struct{}{}
				return
			case *wire.UpdateRequest:
				seq++
				if c.write(&wire.Rect{W: 64, H: 64, Enc: wire.EncSolid, Data: []byte{byte(seq), 2, 3}}, &wire.UpdateEnd{Seq: seq}) != nil {
					return
				}
			}
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := newStreamClient(t, nc, 2)
	for range 4 {
		next(t, c)
	}
	select {
	case <-sawAck:
		t.Error("the viewer acknowledged an update of a version 2 agent")
	default:
	}
}
