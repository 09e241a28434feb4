//go:build linux

// Command scalebench is the gateway's scale benchmark: a load program that speaks the agent
// protocol against a real assistd (bin/assistd, its own process) on loopback, and prints
//
//   - filings/s from -filers concurrent agents (the request alone on connected agents, and
//     connect+handshake+file);
//
//   - request list p50/p99 (--json and the table) with -stored requests of which -filers open;
//
//   - connected idle agents held (-agents, each from its own 127.0.0.0/8 address, filed and
//     sending keepalives) with the gateway's RSS and CPU while they idle;
//
//   - agent back-online time after a -drop link cut (agents with their real defaults, behind a
//     proxy that resets every connection and refuses new ones for the drop).
//
//     go build -o bin/scalebench ./internal/cmd/scalebench && bin/scalebench
//
// Everything is bounded: counts by flags, the whole run by -timeout; nothing leaves loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/assistkit/assist/internal/cli"
)

type options struct {
	assistd     string
	store       string
	dir         string
	gatewayLog  string
	agents      int
	perProcess  int
	keepalive   time.Duration
	connecting  int
	filers      int
	stored      int
	samples     int
	sampleTime  time.Duration
	drop        time.Duration
	dropAgents  int
	idleSeconds int
	timeout     time.Duration
}

func main() {
	var o options
	role := flag.String("role", "", "internal: run as a load process (agents)")
	var lo loadOptions
	flag.StringVar(&o.assistd, "assistd", "bin/assistd", "the gateway binary")
	flag.StringVar(&o.store, "store", "bolt", "the gateway's store: bolt (its file), or etcd (a 3-member cluster on this machine; filing and list phases only)")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "where the gateway's data directory is made (removed afterwards)")
	flag.StringVar(&o.gatewayLog, "gateway-log", "", "append the gateway's whole log (and, with GODEBUG=gctrace=1, its collector's trace) to this file")
	flag.IntVar(&o.agents, "agents", 20000, "connected idle agents to hold")
	flag.IntVar(&o.perProcess, "agents-per-process", 9000, "idle agents per load process (each needs a descriptor per agent)")
	flag.IntVar(&o.connecting, "connecting", 64, "agents connecting at once, per load process")
	flag.IntVar(&o.filers, "filers", 1000, "concurrent agents of the filing phase; their requests are the open ones")
	flag.IntVar(&o.stored, "stored", 100000, "requests in the store for the list phase (the rest closed)")
	flag.IntVar(&o.samples, "samples", 200, "request list runs measured (each form)")
	flag.DurationVar(&o.sampleTime, "sample-time", time.Minute, "stop measuring request lists after this per form (the forms alternate), once 10 runs of each are in")
	flag.DurationVar(&o.drop, "drop", 10*time.Second, "how long the link is cut in the drop phase")
	flag.IntVar(&o.dropAgents, "drop-agents", 10, "agents behind the cut link")
	flag.IntVar(&o.idleSeconds, "idle-seconds", 30, "seconds the gateway's CPU is measured while the agents idle")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "the whole run ends after this")
	flag.StringVar(&lo.gateway, "gateway", "", "internal: gateway address (load role)")
	flag.StringVar(&lo.hostKey, "host-key", "", "internal: gateway host key line (load role)")
	flag.IntVar(&lo.first, "first", 0, "internal: index of the first agent (load role)")
	flag.IntVar(&lo.count, "count", 0, "internal: agents (load role)")
	flag.DurationVar(&lo.keepalive, "keepalive", 0, "how long the idle agents let the gateway be silent before they ask it (default: the agent's)")
	flag.Parse()
	cli.ThroughputGC()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.store != "bolt" && o.store != "etcd" {
		fmt.Fprintf(os.Stderr, "scalebench: -store %q: want bolt or etcd\n", o.store)
		os.Exit(2)
	}
	var err error
	if *role == "load" {
		lo.connecting = o.connecting
	} else {
		o.keepalive = lo.keepalive
	}
	if *role == "load" {
		err = runLoad(ctx, lo)
	} else {
		ctx, cancel := context.WithTimeout(ctx, o.timeout)
		defer cancel()
		err = run(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	gw, err := startGateway(ctx, o)
	if err != nil {
		return err
	}
	defer gw.stop()
	fmt.Printf("gateway %s (pid %d), open-file limit %d, max connections %d, store %s\n", gw.addr, gw.pid(), gw.fileLimit, gw.maxConns, o.store)
	if gw.note != "" {
		fmt.Println("note:", gw.note)
	}

	if err := filingPhase(ctx, gw, o); err != nil {
		return fmt.Errorf("filing phase: %w", err)
	}
	if err := listPhase(ctx, gw, o); err != nil {
		return fmt.Errorf("list phase: %w", err)
	}
	if o.store == "etcd" {
		return nil // what an idle agent costs is the gateway's, whatever its store
	}
	// The drop phase runs inside the idle one, with the idle agents still connected.
	return idlePhase(ctx, gw, o)
}
