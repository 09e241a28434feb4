//go:build !linux

// scalebench runs on Linux only: it reads processes' CPU time and memory from /proc. Elsewhere it says so, so that the
// whole module builds for every platform.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "scalebench: runs on Linux only (it reads processes' CPU time and memory from /proc)")
	os.Exit(2)
}
