//go:build linux

// Command deskbench measures screen sharing end to end: on a 1920×1080 Xvfb, a workload changes
// the screen (idle, typing, scroll, full, video; see package workload) while a viewer pulls
// updates through a real gateway and agent (two SSH hops: viewer → gateway → agent), the
// viewer's link shaped as each link profile (lan, broadband, vpn, bad; see package linkproxy).
// For each link and workload it prints updates a second, bytes a second and an update, the
// latency from the moment the X server has a change to the moment the viewer has applied it
// (p50/p95/p99, found through the marker pixel each change carries), and the CPU the agent,
// the gateway (with the link's emulation) and the viewer spent, as a share of one core.
// The gateway, the agent and the workload are child processes (this binary with -role).
//
//	go build -o bin/deskbench ./internal/cmd/deskbench && bin/deskbench -seconds 5 -links lan,vpn
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/harness/benchrole"
	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/workload"
	"github.com/assistkit/assist/internal/harness/xvfb"
)

func main() {
	var (
		seconds    = flag.Float64("seconds", 5, "how long each cell (a workload on a link) is measured")
		links      = flag.String("links", "lan,broadband,vpn,bad", "link profiles, comma-separated")
		modes      = flag.String("modes", "idle,typing,scroll,full,video", "workloads, comma-separated")
		inFlight   = flag.Int("in-flight", 2, "update requests the viewer keeps outstanding")
		verbose    = flag.Bool("v", false, "log what the parts do")
		cpuProfile = flag.String("cpuprofile", "", "write CPU profiles of the viewer (bench), gateway and agent to this directory")
		record     = flag.String("record", "off", "the gateway records the sessions: off or on (the CPU it adds shows in the gateway's column)")
		sessions   = flag.Int("sessions", 0, "first connect this many viewer sessions one after another and print the agent's memory after each ended")
		role       = flag.String("role", "", "internal: run as the bench's gateway, agent or workload process")
		dir        = flag.String("dir", "", "internal: the gateway's data directory")
		gateway    = flag.String("gateway", "", "internal: gateway address (agent)")
		hostKey    = flag.String("host-key", "", "internal: gateway host key line (agent)")
		display    = flag.String("display", "", "internal: X display (agent, workload)")
		mode       = flag.String("mode", "", "internal: workload mode")
		duration   = flag.Duration("duration", 0, "internal: workload duration")
	)
	flag.Parse()
	if *cpuProfile != "" {
		stop, err := benchrole.StartProfile(*cpuProfile, *role)
		if err != nil {
			fmt.Fprintf(os.Stderr, "deskbench: %v\n", err)
			os.Exit(1)
		}
		defer stop()
	}
	cli.ThroughputGC() // as assistd, assist-agent and assist (the viewer) set it in their main
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var err error
	switch *role {
	case "":
		err = bench(benchOptions{links: *links, modes: *modes, cell: time.Duration(*seconds * float64(time.Second)),
			inFlight: *inFlight, verbose: *verbose, profile: *cpuProfile, record: *record, sessions: *sessions})
	case "gateway":
		err = runGatewayRole(*dir, *record, log)
	case "agent":
		err = runAgentRole(*gateway, *hostKey, *display, log)
	case "workload":
		err = runWorkloadRole(*display, workload.Mode(*mode), *duration, log)
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "deskbench: %s%v\n", map[bool]string{true: *role + ": "}[*role != ""], err)
		os.Exit(1)
	}
}

// benchOptions are the bench's flags.
type benchOptions struct {
	links, modes    string        // comma-separated
	cell            time.Duration // how long each cell is measured
	inFlight        int
	verbose         bool
	profile, record string
	sessions        int // connect/disconnect cycles measured before the cells; 0: none
}

func bench(o benchOptions) error {
	var profs []linkproxy.Profile
	for _, name := range strings.Split(o.links, ",") {
		p, err := linkproxy.ProfileNamed(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		profs = append(profs, p)
	}
	ctx := context.Background()
	x, err := xvfb.Start(ctx, "-screen", "0", "1920x1080x24")
	if err != nil {
		return fmt.Errorf("start Xvfb: %w", err)
	}
	defer x.Close()
	r, err := startRig(x, o.verbose, o.record, o.profile)
	if err != nil {
		return err
	}
	defer r.close()
	if o.sessions > 0 {
		mem, err := r.sessionMemory(ctx, o.sessions)
		if err != nil {
			return fmt.Errorf("sessions: %w", err)
		}
		fmt.Println(memoryRow(mem))
	}
	fmt.Println(header)
	for _, p := range profs {
		// Long enough for a first full frame to cross the link (about 250 KB) and a second.
		settle := time.Second
		if p.Rate > 0 {
			settle += time.Duration(250e3 / float64(p.Rate) * float64(time.Second))
		}
		for _, m := range strings.Split(o.modes, ",") {
			res, err := r.measure(ctx, p.Name, workload.Mode(strings.TrimSpace(m)), o.cell, settle, o.inFlight)
			if err != nil {
				return fmt.Errorf("%s %s: %w", p.Name, m, err)
			}
			fmt.Println(res.row())
		}
	}
	return nil
}
