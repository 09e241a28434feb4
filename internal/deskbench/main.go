// Command deskbench measures screen sharing end to end: on a 1920×1080 Xvfb, the workload
// program changes the screen in four ways (full, typing, scroll, idle) while a viewer pulls
// updates through a real gateway on loopback (two SSH hops: viewer → gateway → agent). For each
// workload it prints updates a second, bytes a second, a change and an update, and the latency
// from the moment the X server has a change to the moment the viewer has applied it (p50/p99),
// found through the marker pixel each change carries.
//
//	go build -o bin/deskbench ./internal/deskbench && bin/deskbench -seconds 10
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/assistkit/assist/internal/workload"
)

func main() {
	seconds := flag.Int("seconds", 10, "how long each workload runs")
	modes := flag.String("modes", "full,typing,scroll,idle", "workloads to run, comma-separated")
	inFlight := flag.Int("in-flight", 2, "update requests the viewer keeps outstanding")
	verbose := flag.Bool("v", false, "log what the parts do")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole process (agent, gateway, viewer) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "deskbench: cpu profile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx := context.Background()
	rig, err := startRig(ctx, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbench:", err)
		os.Exit(1)
	}
	defer rig.close()

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tchanges\tseen\tupdates/s\tKB/s\tbytes/update\tbytes/change\tp50 ms\tp99 ms\t")
	for _, m := range strings.Split(*modes, ",") {
		res, err := rig.measure(ctx, workload.Mode(strings.TrimSpace(m)), time.Duration(*seconds)*time.Second, *inFlight)
		if err != nil {
			fmt.Fprintf(os.Stderr, "deskbench: %s: %v\n", m, err)
			os.Exit(1)
		}
		fmt.Fprintln(tw, res.row())
		tw.Flush()
	}
}
