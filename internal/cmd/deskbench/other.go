//go:build !linux

// deskbench runs on Linux only: it runs Xvfb and reads processes' CPU time from /proc. Elsewhere it says so, so that the
// whole module builds for every platform.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "deskbench: runs on Linux only (it runs Xvfb and reads processes' CPU time from /proc)")
	os.Exit(2)
}
