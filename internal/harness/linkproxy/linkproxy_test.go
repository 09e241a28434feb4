package linkproxy

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// echo runs a TCP server on loopback that sends back what it reads.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return l.Addr().String()
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func start(t *testing.T, prof Profile) *Proxy {
	t.Helper()
	p, err := StartShaped(echo(t), prof)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// roundTrip sends data through p to the echo server and reads it back, in parallel, and
// returns how long the whole took.
func roundTrip(t *testing.T, p *Proxy, data []byte) time.Duration {
	t.Helper()
	c := dial(t, p)
	start := time.Now()
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		werr <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read back: %v", err)
	}
	took := time.Since(start)
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		i := 0
		for i < len(got) && got[i] == data[i] {
			i++
		}
		t.Fatalf("bytes differ from offset %d of %d", i, len(data))
	}
	return took
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestProfilesDeliverExactly: every profile delivers every byte once and in order, both ways.
// The time it takes is reported; only its floor (what the rate and delay must at least cost) is
// checked, since load on the machine can only make it slower.
func TestProfilesDeliverExactly(t *testing.T) {
	data := randomBytes(256 << 10)
	for _, prof := range Profiles() {
		t.Run(prof.Name, func(t *testing.T) {
			p := start(t, prof)
			took := roundTrip(t, p, data)
			// Each byte crosses both directions; they overlap, so the floor is one direction's
			// serialisation plus a round trip.
			var floor time.Duration
			if prof.Rate > 0 {
				floor = time.Duration(int64(len(data)) * int64(time.Second) / prof.Rate)
			}
			floor += prof.RTT()
			t.Logf("%v: %d KiB there and back in %v (floor %v), %.1f Mbit/s", prof, len(data)>>10, took.Round(time.Millisecond),
				floor.Round(time.Millisecond), float64(len(data))*8/took.Seconds()/1e6)
			if took < floor*9/10 {
				t.Errorf("took %v, faster than the link allows (%v)", took, floor)
			}
			up, down := p.Bytes()
			if up != int64(len(data)) || down != int64(len(data)) {
				t.Errorf("counted %d up, %d down; want %d each", up, down, len(data))
			}
		})
	}
}

// TestDelay: a small message's round trip takes at least the profile's RTT; the measured
// figure is reported.
func TestDelay(t *testing.T) {
	prof := Profile{Name: "test", Delay: 25 * time.Millisecond}
	p := start(t, prof)
	c := dial(t, p)
	buf := make([]byte, 1)
	var best, worst time.Duration
	for i := range 10 {
		s := time.Now()
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if buf[0] != byte(i) {
			t.Fatalf("echo %d, want %d", buf[0], i)
		}
		d := time.Since(s)
		if i == 0 || d < best {
			best = d
		}
		worst = max(worst, d)
	}
	t.Logf("RTT %v: measured best %v, worst %v", prof.RTT(), best, worst)
	if best < prof.RTT() {
		t.Errorf("round trip of %v, below the profile's %v", best, prof.RTT())
	}
}

// TestRate: a one-way bulk transfer at a limited rate takes at least its serialisation time;
// the measured rate is reported.
func TestRate(t *testing.T) {
	prof := Profile{Name: "test", Rate: 1 << 20} // 8 Mbit/s
	p := start(t, prof)
	data := randomBytes(512 << 10)
	took := roundTrip(t, p, data)
	rate := float64(len(data)) / took.Seconds()
	t.Logf("%d KiB at %d KiB/s: %v, measured %.0f KiB/s", len(data)>>10, prof.Rate>>10, took.Round(time.Millisecond), rate/1024)
	if rate > float64(prof.Rate)*1.1 {
		t.Errorf("measured %.0f B/s, over the link's %d", rate, prof.Rate)
	}
}

// TestJitterAndLossKeepOrder: jitter and stalls reorder nothing.
func TestJitterAndLossKeepOrder(t *testing.T) {
	prof := Profile{Name: "test", Rate: 4 << 20, Delay: time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.05, Stall: 10 * time.Millisecond, Seed: 7}
	p := start(t, prof)
	roundTrip(t, p, randomBytes(1<<20))
}

// TestSetProfile: a live connection takes the new shape.
func TestSetProfile(t *testing.T) {
	p := start(t, Profile{Name: "lan"})
	c := dial(t, p)
	buf := make([]byte, 1)
	c.Write([]byte{1})
	io.ReadFull(c, buf)
	slow := Profile{Name: "slow", Delay: 40 * time.Millisecond}
	p.SetProfile(slow)
	s := time.Now()
	c.Write([]byte{2})
	if _, err := io.ReadFull(c, buf); err != nil || buf[0] != 2 {
		t.Fatalf("echo %v, %v", buf, err)
	}
	if d := time.Since(s); d < slow.RTT() {
		t.Errorf("round trip %v after SetProfile, want at least %v", d, slow.RTT())
	}
}

// TestCutResets: Cut ends live connections at once and refuses new ones until Restore.
func TestCutResets(t *testing.T) {
	p := start(t, Profiles()[1])
	c := dial(t, p)
	roundTrip(t, p, []byte("hello"))
	p.Cut()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after Cut: %v, want the connection closed", err)
	}
	p.Restore()
	roundTrip(t, p, []byte("back"))
}

func TestProfileNamed(t *testing.T) {
	for _, name := range []string{"lan", "broadband", "vpn", "bad"} {
		p, err := ProfileNamed(name)
		if err != nil || p.Name != name {
			t.Errorf("ProfileNamed(%q) = %v, %v", name, p, err)
		}
	}
	if _, err := ProfileNamed("dialup"); err == nil {
		t.Error("ProfileNamed(dialup): no error")
	}
	want := map[string][2]float64{"broadband": {50, 20}, "vpn": {10, 60}, "bad": {2, 150}}
	for name, w := range want {
		p, _ := ProfileNamed(name)
		if mbit, rtt := float64(p.Rate)*8/1e6, float64(p.RTT().Milliseconds()); mbit != w[0] || rtt != w[1] {
			t.Errorf("%s: %.0f Mbit/s, %.0f ms RTT; want %v", name, mbit, rtt, w)
		}
	}
}
