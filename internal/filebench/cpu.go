package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
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

const clockTicks = 100 // USER_HZ; the same on every Linux the bench runs on

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

// procTime is a process's user+system time and that of its reaped children, from
// /proc/PID/stat (fields 14–17, after the parenthesised command name).
func procTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime, counted from field 3
		if i < len(fields) {
			n, _ := strconv.ParseInt(fields[i], 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
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
