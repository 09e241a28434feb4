//go:build linux

package main

import (
	"syscall"
	"time"

	"github.com/assistkit/assist/internal/harness/procstat"
)

// CPU time is the bench's steadier figure: on a machine shared with other work, MB/s moves with
// the load, while the CPU seconds each path spends per GiB do not.

// cpuMeter reads the CPU time used so far by everything one path runs on: this process (the
// viewer's client), its reaped children (sftp and the ssh it starts), and the long-running
// processes named in procs (gateway, agent, sshd with the sessions it reaped).
type cpuMeter struct {
	procs map[string]int // name → pid
}

type cpuSample map[string]time.Duration

func (m cpuMeter) sample() cpuSample {
	s := cpuSample{}
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	s["client"] = rusageTime(self) + rusageTime(children)
	for name, pid := range m.procs {
		s[name] = procTime(pid)
	}
	return s
}

func rusageTime(r syscall.Rusage) time.Duration {
	return time.Duration(syscall.TimevalToNsec(r.Utime) + syscall.TimevalToNsec(r.Stime))
}

// procTime is a process's user+system time and that of its reaped children, from /proc (0 if
// it cannot be read).
func procTime(pid int) time.Duration {
	st, _ := procstat.Read(pid)
	return st.CPU + st.ReapedCPU
}

// sub is the CPU time each process spent between two samples.
func (s cpuSample) sub(before cpuSample) cpuSample {
	d := cpuSample{}
	for k, v := range s {
		d[k] = v - before[k]
	}
	return d
}

func (s cpuSample) total() time.Duration {
	var t time.Duration
	for _, v := range s {
		t += v
	}
	return t
}
