package rdp

import (
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// Pacing (protocol version 3, CapAck). Update requests bound how many updates are in flight,
// not how many bytes: on a slow link two requests outstanding are two whole updates queued
// behind each other in the channel, the gateway and the link, each older than the screen by the
// time it shows. So the viewer acknowledges each update the moment it has arrived, and the
// agent measures the link from the acks — the rate it delivers (an update's bytes over the
// time the viewer saw it take to arrive, its spread, and bytes acknowledged over the time they
// took, as BBR samples it; the best over rateWindow) and its round trip (from updates sent while
// nothing was in flight: the time to their ack less their spread; the least over rttWindow) —
// and answers a request only while what is in flight is below paceGain × rate × round trip. Meanwhile changes collect in the encoder's damage, and the next
// update is made from the screen as it is when the link has room: the latest state, never a
// queue of old frames. A round trip measured while updates queue behind each other would count
// the queue as the link's and grow the window without end, so only an update that queued behind
// nothing gives a sample; when the last one is older than rttWindow, the pacer lets the link
// empty once and sends one such update (BBR's ProbeRTT).

const (
	// paceGain is how many round trips of the link may be in flight: more than one, so the
	// link does not idle while the next ack travels back.
	paceGain = 2
	// minWindow is what may always be in flight, before the link is measured and on a link
	// whose samples are all tiny (typing): one update whatever its size when nothing is in
	// flight, more while the total stays below this.
	minWindow = 16 << 10
	// minPaceRTT is the least round trip the window counts: on loopback or a LAN the one
	// measured (0.2–0.7 ms on the bench's lan) is far shorter than either end takes over an
	// update (the agent's 10 ms or so for a changed 1080p desktop, the viewer's 3 to decode
	// it), and paceGain of them held less than one 30 KB update: the agent then waited for
	// each update's ack before it began the next, and the viewer's decoding and two SSH hops
	// were latency of every change that came meanwhile. A queue the link drains in this long
	// is no stale frame; below 1.6 MB/s the minimum window is the larger anyway, and a link
	// with a longer round trip is paced as before.
	minPaceRTT = 5 * time.Millisecond
	// rttWindow is how long the least round trip is kept: long enough to see one update that
	// queued behind nothing, short enough to follow a route that changed.
	rttWindow = 10 * time.Second
	// rateWindow is how long the best delivery rate is kept: updates are often too small to
	// fill the link (a rate sample then says less than the link can do), so the best recent one
	// stands for the link.
	rateWindow  = 4 * time.Second
	rateSamples = 16
)

// pacer keeps the agent's account of updates in flight. It is not safe for concurrent use.
type pacer struct {
	sent        []sentUpdate // sent and not yet acknowledged, oldest first
	inflight    int          // their bytes
	delivered   int64        // bytes acknowledged so far
	deliveredAt time.Time    // when delivered last grew (or the link last went busy)
	lastSentAt  time.Time    // when the latest update acknowledged was sent
	minRTT      time.Duration
	minRTTAt    time.Time
	rates       [rateSamples]rateSample // a ring
	nrates      int
}

type sentUpdate struct {
	seq         uint64
	bytes       int
	at          time.Time
	delivered   int64 // the pacer's delivered, deliveredAt and lastSentAt when this was sent
	deliveredAt time.Time
	firstSentAt time.Time
	idle        bool // nothing was in flight when it was sent
}

type rateSample struct {
	bytesPerSec float64
	at          time.Time
}

// onSend records an update of n bytes on the wire.
func (p *pacer) onSend(seq uint64, n int, now time.Time) {
	idle := len(p.sent) == 0
	if idle {
		// The link was idle: the rate of this update is measured from now, not from an ack
		// long ago.
		p.deliveredAt, p.lastSentAt = now, now
	}
	p.sent = append(p.sent, sentUpdate{seq: seq, bytes: n, at: now, delivered: p.delivered, deliveredAt: p.deliveredAt,
		firstSentAt: p.lastSentAt, idle: idle})
	p.inflight += n
}

// onAck takes the viewer's acknowledgement of update seq, which took spread to arrive: acks come
// in order, one per update.
func (p *pacer) onAck(seq uint64, spread time.Duration, now time.Time) error {
	if len(p.sent) == 0 || p.sent[0].seq != seq {
		return protocolErrorf("update-ack %d does not acknowledge the oldest update in flight", seq)
	}
	u := p.sent[0]
	p.sent = append(p.sent[:0], p.sent[1:]...)
	p.inflight -= u.bytes
	p.delivered += int64(u.bytes)
	p.deliveredAt, p.lastSentAt = now, u.at
	// Acks that arrive bunched would make a rate the link never had: the interval is at least
	// the one over which the bytes were sent.
	if d := max(now.Sub(u.deliveredAt), u.at.Sub(u.firstSentAt)); d > 0 {
		p.addRate(float64(p.delivered-u.delivered)/d.Seconds(), now)
	}
	// The spread times the link only for an update that queued behind nothing: the viewer
	// starts its clock after the previous update, and bytes that had come before count as
	// arrived at once. Under a millisecond, the update fit in a packet or two: that says
	// nothing of the link's rate.
	if u.idle && spread >= time.Millisecond {
		p.addRate(float64(u.bytes)/spread.Seconds(), now)
	}
	// A spread as long as the whole wait for the ack (the viewer stretches the first read's
	// share, and can overshoot) says nothing of the round trip; taken as one, it was a round trip
	// of a microsecond, a window of the 16 KiB minimum, and a 10 Mbit/s link carrying a third of
	// what it could (deskbench vpn full: minRTT 54 ms, then 1 µs).
	if rtt := now.Sub(u.at) - spread; u.idle && rtt > 0 {
		if p.minRTT == 0 || rtt <= p.minRTT || p.stale(now) {
			p.minRTT, p.minRTTAt = rtt, now
		}
	}
	return nil
}

func (p *pacer) addRate(bytesPerSec float64, now time.Time) {
	p.rates[p.nrates%rateSamples] = rateSample{bytesPerSec: bytesPerSec, at: now}
	p.nrates++
}

// rate is the link's delivery rate in bytes a second as last measured: the best sample of the
// last rateWindow, or the latest one when all are older. 0 before any ack.
func (p *pacer) rate(now time.Time) float64 {
	n := min(p.nrates, rateSamples)
	if n == 0 {
		return 0
	}
	best := 0.0
	for _, s := range p.rates[:n] {
		if now.Sub(s.at) <= rateWindow {
			best = max(best, s.bytesPerSec)
		}
	}
	if best == 0 {
		best = p.rates[(p.nrates-1)%rateSamples].bytesPerSec
	}
	return best
}

// window is how many bytes may be in flight.
func (p *pacer) window(now time.Time) int {
	return max(int(paceGain*p.rate(now)*max(p.minRTT, minPaceRTT).Seconds()), minWindow)
}

// stale reports whether the round trip needs measuring again.
func (p *pacer) stale(now time.Time) bool { return now.Sub(p.minRTTAt) > rttWindow }

// open reports whether an update may be sent now.
func (p *pacer) open(now time.Time) bool {
	if len(p.sent) == 0 {
		return true
	}
	if p.stale(now) {
		return false // let the link empty, so the next update measures the round trip
	}
	return p.inflight < p.window(now)
}

// acked reports whether the peers agreed on acknowledgements and pacing (version 3, CapAck).
func acked(peer wire.Hello, ours uint64) bool {
	return peer.Version >= 3 && peer.Caps&ours&wire.CapAck != 0
}
