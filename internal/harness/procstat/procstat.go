// Package procstat reads what Linux says of a process in /proc: the processor time it has used
// and its memory (elsewhere Read fails). The benchmarks measure their child processes (gateway, agent, X server) with
// it, from outside, so that each one's figure is its own.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Stat is a process's figures at one moment.
type Stat struct {
	CPU       time.Duration // user and system time of the process
	ReapedCPU time.Duration // user and system time of the children it has waited for
	RSS, Peak int64         // resident set now and at its largest (VmRSS, VmHWM), in bytes
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every Linux the benchmarks
// run on.
const clockTicks = 100

// maxTicks bounds each time read, 2^36 ticks (about 22 years), so that a sum of two never
// overflows a time.Duration.
const maxTicks = 1 << 36

// Read reads pid's /proc/PID/stat and /proc/PID/status.
func Read(pid int) (Stat, error) {
	var st Stat
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, fmt.Errorf("procstat: %w", err)
	}
	if err := parseStat(stat, &st); err != nil {
		return st, fmt.Errorf("procstat: /proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, fmt.Errorf("procstat: %w", err)
	}
	if err := parseStatus(status, &st); err != nil {
		return st, fmt.Errorf("procstat: /proc/%d/status: %w", pid, err)
	}
	return st, nil
}

// parseStat reads the times of a /proc/PID/stat line: utime, stime, cutime and cstime, the
// 14th to 17th fields, counted after the command name, which is in parentheses and may hold
// spaces and parentheses of its own.
func parseStat(b []byte, st *Stat) error {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return errors.New("no command name")
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 15 {
		return fmt.Errorf("%d fields after the command name, want 15 or more", len(f))
	}
	var t [4]int64
	for k := range t {
		n, err := strconv.ParseInt(string(f[11+k]), 10, 64)
		if err != nil || n < 0 || n > maxTicks {
			return fmt.Errorf("time %q", f[11+k])
		}
		t[k] = n
	}
	st.CPU = ticks(t[0] + t[1])
	st.ReapedCPU = ticks(t[2] + t[3])
	return nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * (time.Second / clockTicks) }

// parseStatus reads VmRSS and VmHWM from /proc/PID/status; a process that has ended its memory
// (a zombie) has neither, and reads as zero.
func parseStatus(b []byte, st *Stat) error {
	for line := range bytes.Lines(b) {
		name, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst = &st.RSS
		case "VmHWM":
			dst = &st.Peak
		default:
			continue
		}
		kb, ok := bytes.CutSuffix(bytes.TrimSpace(v), []byte(" kB"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(kb)), 10, 64)
		if !ok || err != nil || n < 0 || n > 1<<40 {
			return fmt.Errorf("%s %q", name, bytes.TrimSpace(v))
		}
		*dst = n << 10
	}
	return nil
}
