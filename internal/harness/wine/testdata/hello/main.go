// hello is the smallest Windows program the Wine harness runs: it prints what Windows says the
// machine is, and fails if the runtime's random source (the ProcessPrng shim) does not work.
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
)

func main() {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		fmt.Fprintln(os.Stderr, "random:", err)
		os.Exit(1)
	}
	fmt.Printf("%s/%s %s\n", runtime.GOOS, runtime.GOARCH, os.Getenv("COMPUTERNAME"))
}
