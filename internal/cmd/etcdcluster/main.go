// Command etcdcluster runs a real etcd cluster on this machine — etcd's own server, embedded,
// its members on 127.0.0.1 — for scripts/cluster-demo.sh: it prints the cluster as a --store
// value (etcd://HOST:PORT,…) on its first line of output once every member serves, and runs
// until SIGINT or SIGTERM. Not for production: run etcd itself there (README, "Deploying a
// cluster").
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/assistkit/assist/internal/harness/etcdtest"
)

func main() {
	dir := flag.String("dir", "", "directory for the members' data (required)")
	n := flag.Int("members", 3, "how many members")
	flag.Parse()
	if *dir == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "etcdcluster: --dir is required, and --members at least 1")
		os.Exit(2)
	}
	c, err := etcdtest.Start(*dir, *n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdcluster:", err)
		os.Exit(1)
	}
	fmt.Printf("etcd://%s\n", strings.Join(c.Endpoints, ","))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	c.Close()
}
