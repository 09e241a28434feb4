package cli

import (
	"os"
	"runtime/debug"
)

// ThroughputGC trades memory for throughput in the programs that move files and screens: every
// 32 KiB SFTP packet allocates, and with Go's default GOGC=100 the gateway and the agent spent
// 12–15% of their CPU collecting (filebench: 0.9 of an OpenSSH jump host's throughput at
// GOGC=100, 1.6 at 400). A soft memory limit keeps the heap bounded whatever the garbage
// percentage. GOGC and GOMEMLIMIT in the environment win.
func ThroughputGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}
