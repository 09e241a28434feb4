//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/procstat"
	"github.com/assistkit/assist/viewer"
)

// filingPhase connects o.filers agents (64 at a time), then has all of them file at once.
func filingPhase(ctx context.Context, gw *gateway, o options) error {
	agents := make([]*rawAgent, o.filers)
	start := time.Now()
	var failed atomic.Int64
	parallel(o.filers, 64, func(i int) {
		a, err := dialRaw(ctx, gw, i)
		if err != nil {
			failed.Add(1)
			return
		}
		agents[i] = a
	})
	connect := time.Since(start)
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d agents could not connect", n, o.filers)
	}
	var refused atomic.Int64
	var wg sync.WaitGroup
	start = time.Now()
	for i, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.file(i); err != nil {
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	filing := time.Since(start)
	for _, a := range agents {
		a.conn.Close()
	}
	fmt.Printf("filings: %d concurrent agents: %.0f filings/s (request alone, %s for all; %d refused); connect+handshake %.0f/s\n",
		o.filers, float64(o.filers)/filing.Seconds(), filing.Round(time.Millisecond), refused.Load(), float64(o.filers)/connect.Seconds())
	return nil
}

// listPhase times request list over one technician connection, as assist request list runs it
// (a session and an exec per run; the login itself is not timed). It starts once the gateway
// has settled after the filing phase, whose agents' disconnections are still being recorded
// when it returns, and it alternates the two forms, so that neither alone takes what the
// machine's other load does meanwhile. The first --json run decodes every open request (the
// store's cache of them is cold); it is counted, and the max shows it.
func listPhase(ctx context.Context, gw *gateway, o options) error {
	waited, err := settle(ctx, gw.pid())
	if err != nil {
		return err
	}
	fmt.Printf("list phase: the gateway settled %s after the filings\n", waited.Round(100*time.Millisecond))
	c, err := gw.login.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	forms := [][]string{{"request", "list", "--json"}, {"request", "list"}}
	times := make([][]time.Duration, len(forms))
	rows := 0
	until := time.Now().Add(time.Duration(len(forms)) * o.sampleTime)
	for i := 0; i < o.samples && (i < 10 || time.Now().Before(until)); i++ {
		for f, args := range forms {
			var out, errb bytes.Buffer
			start := time.Now()
			status, err := viewer.Run(ctx, c, args, nil, &out, &errb)
			times[f] = append(times[f], time.Since(start))
			if err != nil || status != 0 {
				return fmt.Errorf("%v: status %d %v %s", args, status, err, errb.String())
			}
			if i == 0 && len(args) == 3 {
				var list []json.RawMessage
				if err := json.Unmarshal(out.Bytes(), &list); err != nil {
					return fmt.Errorf("request list --json: %w", err)
				}
				rows = len(list)
			}
		}
	}
	for f, args := range forms {
		what := fmt.Sprintf("%d rows", rows)
		if f > 0 {
			what = "table"
		}
		t := times[f]
		slices.Sort(t)
		fmt.Printf("request list %-7s %d stored, %d open (%s): p50 %s p99 %s max %s over %d runs\n", flagOf(args), o.stored, o.filers, what,
			pct(t, 50).Round(10*time.Microsecond), pct(t, 99).Round(10*time.Microsecond), t[len(t)-1].Round(10*time.Microsecond), len(t))
	}
	return nil
}

// settle waits until the gateway is about idle (under 5% of a core for half a second) and
// says how long that took; after 30 s it stops waiting.
func settle(ctx context.Context, pid int) (time.Duration, error) {
	const window = 500 * time.Millisecond
	start := time.Now()
	prev, err := procstat.Read(pid)
	for err == nil && time.Since(start) < 30*time.Second {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(window):
		}
		var now procstat.Stat
		if now, err = procstat.Read(pid); err == nil && now.CPU-prev.CPU <= window/20 {
			break
		}
		prev = now
	}
	return time.Since(start), err
}

func flagOf(args []string) string {
	if len(args) == 3 {
		return args[2]
	}
	return "(table)"
}

// idlePhase connects o.agents real agents from load processes and measures the gateway while
// they idle. They stay connected through the drop phase.
func idlePhase(ctx context.Context, gw *gateway, o options) error {
	before, err := procstat.Read(gw.pid())
	if err != nil {
		return err
	}
	start := time.Now()
	var procs []*loadProcess
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for first := 0; first < o.agents; first += o.perProcess {
		p, err := startLoad(o, gw, 100000+first, min(o.perProcess, o.agents-first))
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	filed, failed := 0, 0
	for _, p := range procs {
		select {
		case r, ok := <-p.ready:
			if !ok {
				return fmt.Errorf("a load process ended early")
			}
			filed, failed = filed+r[0], failed+r[1]
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	connected := time.Since(start)
	time.Sleep(5 * time.Second) // let the connection burst's garbage be collected
	a, err := procstat.Read(gw.pid())
	if err != nil {
		return err
	}
	time.Sleep(time.Duration(o.idleSeconds) * time.Second)
	b, err := procstat.Read(gw.pid())
	if err != nil {
		return err
	}
	cpu := float64(b.CPU-a.CPU) / float64(time.Duration(o.idleSeconds)*time.Second) * 100
	perAgent := float64(b.RSS-before.RSS) / float64(max(filed, 1)) / 1024
	fmt.Printf("idle agents: %d of %d held (%d gave up) after %s; gateway RSS %.0f MiB (peak %.0f MiB, %.0f KiB an agent), CPU %.1f%% of one core over %ds idle; 'connection limit reached' lines: %d\n",
		filed, o.agents, failed, connected.Round(time.Second), float64(b.RSS)/(1<<20), float64(b.Peak)/(1<<20), perAgent, cpu, o.idleSeconds, gw.limitLines.Load())
	if err := dropPhase(ctx, gw, o); err != nil {
		return fmt.Errorf("drop phase: %w", err)
	}
	return nil
}

// dropPhase runs agents with their real defaults behind a proxy, cuts the link for o.drop
// (every connection reset, new ones refused) and times how soon after the link returns each
// agent has its request online again.
func dropPhase(ctx context.Context, gw *gateway, o options) error {
	p, err := linkproxy.Start(gw.addr)
	if err != nil {
		return err
	}
	defer p.Close()
	type filing struct {
		i       int
		resumed bool
		at      time.Time
	}
	events := make(chan filing, 4*o.dropAgents)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := 0; i < o.dropAgents; i++ {
		a, err := agent.New(agent.Config{
			Gateway: p.Addr, HostKeys: []ssh.PublicKey{gw.hostKey}, Key: newKey(), Form: benchForm(i), Consent: denyAll{},
			Logger: slog.New(slog.DiscardHandler),
			Events: func(e agent.Event) {
				if e.Kind == agent.EventFiled {
					select {
					case events <- filing{i, e.Resumed, time.Now()}:
					default:
					}
				}
			},
		})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
	}
	for n := 0; n < o.dropAgents; n++ {
		select {
		case <-events:
		case <-time.After(2 * time.Minute):
			return fmt.Errorf("drop agents did not file")
		}
	}
	p.Cut()
	time.Sleep(o.drop)
	p.Restore()
	restored := time.Now()
	var back []time.Duration
	for len(back) < o.dropAgents {
		select {
		case f := <-events:
			if f.resumed {
				back = append(back, f.at.Sub(restored))
			}
		case <-time.After(2 * time.Minute):
			return fmt.Errorf("only %d of %d agents back after the link returned", len(back), o.dropAgents)
		}
	}
	slices.Sort(back)
	fmt.Printf("link drop of %s: %d agents back online after the link returned in p50 %s, max %s\n",
		o.drop, o.dropAgents, pct(back, 50).Round(time.Millisecond), back[len(back)-1].Round(time.Millisecond))
	return nil
}

// parallel runs f(0..n-1) with at most k at once.
func parallel(n, k int, f func(int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, k)
	for i := 0; i < n; i++ {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			f(i)
		}()
	}
	wg.Wait()
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}
