package linkproxy

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Profile shapes a link: what a home line, a VPN or a bad hotel Wi-Fi does to bytes, emulated in
// user space because these machines have no netem. Each direction of the proxy is one link of
// Rate shared by every connection (a modem has one uplink); each connection then keeps its own
// bytes in order, as TCP does.
type Profile struct {
	Name string
	// Rate is the bandwidth of each direction in bytes a second; 0 is unlimited.
	Rate int64
	// Delay is the one-way delay of each direction (RTT = 2 × Delay).
	Delay time.Duration
	// Jitter adds a uniformly random 0…Jitter to each packet's delay; bytes stay in order, so a
	// late packet holds up those behind it.
	Jitter time.Duration
	// Loss is the probability that a packet is lost and comes only after Stall, a
	// retransmission: TCP hides loss as a stall of everything behind it, which is what a loss
	// model over a byte stream can show.
	Loss  float64
	Stall time.Duration
	// Seed makes jitter and loss reproducible (0: a fixed default).
	Seed uint64
}

// RTT is the profile's round-trip time without jitter.
func (p Profile) RTT() time.Duration { return 2 * p.Delay }

func (p Profile) shaped() bool { return p.Rate > 0 || p.Delay > 0 || p.Jitter > 0 || p.Loss > 0 }

func (p Profile) String() string {
	if !p.shaped() {
		return p.Name + " (unshaped)"
	}
	s := fmt.Sprintf("%s (%.1f Mbit/s, %v RTT", p.Name, float64(p.Rate)*8/1e6, p.RTT())
	if p.Jitter > 0 {
		s += fmt.Sprintf(", jitter %v", p.Jitter)
	}
	if p.Loss > 0 {
		s += fmt.Sprintf(", %.1f%% loss stalling %v", p.Loss*100, p.Stall)
	}
	return s + ")"
}

// Profiles returns the links the tests and the bench use, fastest first: lan is loopback as it
// is; broadband a home line; vpn a company VPN from home; bad a poor hotel or mobile link.
func Profiles() []Profile {
	const mbit = 1_000_000 / 8
	return []Profile{
		{Name: "lan"},
		{Name: "broadband", Rate: 50 * mbit, Delay: 10 * time.Millisecond},
		{Name: "vpn", Rate: 10 * mbit, Delay: 30 * time.Millisecond},
		{Name: "bad", Rate: 2 * mbit, Delay: 75 * time.Millisecond, Jitter: 20 * time.Millisecond,
			Loss: 0.002, Stall: 300 * time.Millisecond},
	}
}

// ProfileNamed returns the profile of that name from Profiles.
func ProfileNamed(name string) (Profile, error) {
	var names []string
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("no link profile %q (have %v)", name, names)
}

// packetSize is the unit the shaper delays: about a millisecond of the link, never below an
// Ethernet frame's payload nor above 16 KiB, so a slow link delivers bytes as a trickle and not
// in bursts of a read buffer.
func (p Profile) packetSize() int {
	if p.Rate <= 0 {
		return 16 << 10
	}
	return int(min(max(p.Rate/1000, 1460), 16<<10))
}

// pipe is one direction of the link: its bandwidth is shared by the proxy's connections.
type pipe struct {
	mu     sync.Mutex
	free   time.Time // when the link has sent what it was given
	rnd    *rand.Rand
	prof   Profile
	now    func() time.Time
	nbytes int64
}

func newPipe(p Profile, seed uint64) *pipe {
	return &pipe{prof: p, rnd: rand.New(rand.NewPCG(seed, 0x5eed)), now: time.Now}
}

func (l *pipe) set(p Profile) {
	l.mu.Lock()
	l.prof = p
	l.mu.Unlock()
}

// send takes n bytes onto the link: it returns when they have left the sender (the token
// bucket: the caller waits out the link's serialisation, which holds the sender back the way a
// full link does) and when they arrive at the far end, never before prev (bytes keep order).
func (l *pipe) send(n int, prev time.Time) (depart, arrive time.Time) {
	l.mu.Lock()
	p := l.prof
	now := l.now()
	// The bucket holds burst's worth of the link: a sender that was idle, or a reader that
	// slept past its time, may catch up by that much and no more.
	if floor := now.Add(-burst); l.free.Before(floor) {
		l.free = floor
	}
	if p.Rate > 0 {
		l.free = l.free.Add(time.Duration(int64(n) * int64(time.Second) / p.Rate))
	}
	depart = l.free
	if depart.Before(now) {
		depart = now
	}
	extra := p.Delay
	if p.Jitter > 0 {
		extra += time.Duration(l.rnd.Int64N(int64(p.Jitter) + 1))
	}
	if p.Loss > 0 && l.rnd.Float64() < p.Loss {
		extra += p.Stall
	}
	l.nbytes += int64(n)
	l.mu.Unlock()
	arrive = depart.Add(extra)
	if arrive.Before(prev) {
		arrive = prev
	}
	return depart, arrive
}

// burst is the depth of the token bucket, in time of the link.
const burst = 5 * time.Millisecond

type packet struct {
	b  []byte
	at time.Time
}

// copy moves bytes from src to dst through the pipe: a reader that takes packets onto the
// link at its rate, and a writer that hands each to dst once it has crossed the delay (and
// while the link is neither cut nor a blackhole). What is on the wire at once is bounded by the
// queue between them, and a full queue holds the reader back, so the sender feels the link.
// Unshaped, a packet is handed on at once.
func (p *Proxy) copy(dst, src net.Conn, l *pipe) {
	defer dst.Close()
	defer src.Close()
	const depth = 1024
	q := make(chan packet, depth)
	free := make(chan []byte, depth) // buffers back from the writer
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			for range q { // drain, so the reader never blocks on a dead writer
			}
		}()
		for pk := range q {
			if d := time.Until(pk.at); d > 0 {
				time.Sleep(d)
			}
			if !p.gate() {
				src.Close() // unblocks the reader
				return
			}
			if _, err := dst.Write(pk.b); err != nil {
				src.Close()
				return
			}
			select {
			case free <- pk.b[:cap(pk.b)]:
			default:
			}
		}
	}()
	var prev time.Time
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
			buf = make([]byte, 16<<10)
		}
		n, err := src.Read(buf[:l.packetSize()])
		if n > 0 {
			depart, arrive := l.send(n, prev)
			prev = arrive
			if d := time.Until(depart); d > time.Millisecond {
				time.Sleep(d)
			}
			q <- packet{b: buf[:n], at: arrive}
		}
		if err != nil {
			break
		}
	}
	close(q)
	<-done
}

func (l *pipe) packetSize() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.prof.packetSize()
}
