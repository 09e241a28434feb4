//go:build linux

// Command filebench measures file transfer through the assist gateway against OpenSSH. In one
// run it copies a file of -size both ways with the viewer's file API and with OpenSSH's sftp
// through a real gateway and agent (each its own process), then with OpenSSH's sftp against
// Debian's sshd, directly and through an OpenSSH jump host (sftp -J: the same two hops as
// ours). It prints MB/s (10^6 bytes a second) for each, our ratios, and the peak memory
// (VmHWM) of the gateway and the agent.
//
//	go build -o bin/filebench ./internal/cmd/filebench && bin/filebench -size 1GiB
//
// The children inherit the environment, so GOGC=200 bin/filebench shows what a garbage
// collector setting in assistd and assist-agent would change. -cpuprofile DIR writes each
// process's CPU profile.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/harness/benchrole"
)

func main() {
	var (
		role     = flag.String("role", "", "internal: run as the bench's gateway or agent process")
		dir      = flag.String("dir", os.TempDir(), "where the bench keeps its files (removed afterwards)")
		size     = flag.String("size", "1GiB", "file size: bytes, or with KiB, MiB, GiB")
		runs     = flag.Int("runs", 1, "copies per path and direction; the best is reported")
		sshdPath = flag.String("sshd", "/usr/sbin/sshd", "OpenSSH server for the reference figures")
		techKey  = flag.String("tech-key", "", "internal: the technician's public key (gateway role)")
		gateway  = flag.String("gateway", "", "internal: gateway address (agent role)")
		hostKey  = flag.String("host-key", "", "internal: gateway host key line (agent role)")
		profile  = flag.String("cpuprofile", "", "write CPU profiles of the bench, gateway and agent to this directory")
	)
	flag.Parse()
	if *profile != "" {
		stop, err := benchrole.StartProfile(*profile, *role)
		if err != nil {
			fmt.Fprintf(os.Stderr, "filebench: %v\n", err)
			os.Exit(1)
		}
		defer stop()
	}
	if *role != "" {
		cli.ThroughputGC() // as assistd and assist-agent set it in their main
	}
	var err error
	switch *role {
	case "gateway":
		err = runGatewayRole(*dir, *techKey)
	case "agent":
		err = runAgentRole(*gateway, *hostKey)
	case "":
		var n int64
		if n, err = parseSize(*size); err == nil {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			err = runBench(ctx, benchOptions{dir: *dir, size: n, runs: max(1, *runs), sshd: *sshdPath, profile: *profile})
			stop()
		}
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "filebench: %v\n", err)
		os.Exit(1)
	}
}

// parseSize reads "1GiB", "64MiB", "512KiB" or a number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes, or like 64MiB or 1GiB", s)
	}
	return n * mult, nil
}

func cpuNote() string {
	return fmt.Sprintf("%d CPUs, GOMAXPROCS %d, %s/%s, %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
