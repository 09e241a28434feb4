package cli

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// ThroughputGC trades memory for throughput in the programs that move files and screens: every
// 32 KiB SFTP packet allocates, and with Go's default GOGC=100 the gateway and the agent spent
// 12–15% of their CPU collecting (filebench: 0.9 of an OpenSSH jump host's throughput at
// GOGC=100, 1.6 at 400). A soft memory limit keeps the heap bounded whatever the garbage
// percentage. GOGC and GOMEMLIMIT in the environment win.
func ThroughputGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(throughputPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}

const throughputPercent = 400

// ServerGC sets the soft memory limit of a server that holds many connections to bytes, unless
// GOMEMLIMIT says otherwise: under a limit near its live heap the collector runs without pause
// (assistd at 512 MiB spent most of its CPU collecting past ~6k agents).
//
// Until ctx ends it also turns the garbage percentage off while the limit is what bounds the
// heap, unless GOGC says otherwise. The percentage then decides nothing but the runtime's own
// collection every two minutes, which marks the whole heap however little garbage there is: with
// 20,000 idle agents, about 2.5 s of CPU every two minutes (620 ms at 5,000 agents, in gctrace).
// With the percentage off the collector runs when memory reaches the limit. Once the heap
// shrinks below what the percentage would allow, the percentage is back.
func ServerGC(ctx context.Context, bytes int64, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(bytes)
	}
	if os.Getenv("GOGC") != "" {
		return
	}
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		off := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if binds := readGCState().limitBinds(throughputPercent); binds != off {
				off = binds
				if off {
					debug.SetGCPercent(-1)
					log.Info("the memory limit bounds the heap: the collector runs at the limit, not every two minutes", "memory_limit_mib", debug.SetMemoryLimit(-1)>>20)
				} else {
					debug.SetGCPercent(throughputPercent)
					log.Info("the heap is below the memory limit's reach: the collector runs at GOGC again", "gogc", throughputPercent)
				}
			}
		}
	}()
}

// gcState is what the last collection left, as the runtime reckons its heap goal from it.
type gcState struct {
	live, stacks, globals uint64 // marked heap, scanned stacks and globals
	goal                  uint64 // the heap goal in force: the percentage's or the limit's, the lower
}

func readGCState() gcState {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return gcState{live: s[0].Value.Uint64(), stacks: s[1].Value.Uint64(), globals: s[2].Value.Uint64(), goal: s[3].Value.Uint64()}
}

// limitBinds says whether the heap goal that percent asks for is above the goal in force, so
// that the memory limit, not the percentage, decides when the collector runs. With the
// percentage on, the goal in force is the lower of the two; with it off, the limit's.
func (s gcState) limitBinds(percent int) bool {
	want := s.live + (s.live+s.stacks+s.globals)*uint64(percent)/100
	return want > s.goal
}
