package cli

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestLimitBinds reads the real runtime: with 64 MiB live, GOGC=400 asks for a heap of about
// 320 MiB, so a 128 MiB limit bounds the heap and a 1 GiB one does not, whether the percentage
// is on (the goal in force is the lower) or off (the goal is the limit's).
func TestLimitBinds(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(throughputPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	live := make([][]byte, 64)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	cases := []struct {
		limit   int64
		percent int
		binds   bool
	}{
		{math.MaxInt64, throughputPercent, false},
		{1 << 30, throughputPercent, false},
		{1 << 30, -1, false},
		{128 << 20, throughputPercent, true},
		{128 << 20, -1, true},
	}
	for _, c := range cases {
		debug.SetMemoryLimit(c.limit)
		debug.SetGCPercent(c.percent)
		s := readGCState()
		if got := s.limitBinds(throughputPercent); got != c.binds {
			t.Errorf("limit %d MiB, GOGC %d: %+v: limit binds %v, want %v", c.limit>>20, c.percent, s, got, c.binds)
		}
	}
	runtime.KeepAlive(live)
}
