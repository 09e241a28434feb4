//go:build unix

package cli

import (
	"fmt"
	"syscall"
)

// RaiseFileLimit raises the process's open-file soft limit to its hard limit and returns the
// limit now in force. Go's runtime already raises it at start on Linux; doing it here as well
// makes the figure a server sizes its connection cap on explicit, and covers the other Unixes.
// A hard limit the kernel will not grant as a soft one (macOS's unlimited) leaves the soft
// limit as it was.
func RaiseFileLimit() (soft, hard uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if rl.Cur < rl.Max {
		raised := rl
		raised.Cur = rl.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			rl = raised
		}
	}
	return uint64(rl.Cur), uint64(rl.Max), nil
}
