package benchrole

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// StartProfile writes a CPU profile of this process to DIR/ROLE.pprof (bench.pprof for the
// bench itself, whose role is "") until the returned function runs.
func StartProfile(dir, role string) (stop func(), err error) {
	if role == "" {
		role = "bench"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, role+".pprof"))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
