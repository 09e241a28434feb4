//go:build linux

package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/assistkit/assist/internal/harness/benchrole"
	"github.com/assistkit/assist/internal/harness/procstat"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/tickets"
)

// child is one of the bench's processes.
type child struct{ *benchrole.Process }

func startChild(args ...string) (*child, error) {
	p, err := benchrole.Start(strings.Join(args[:min(2, len(args))], " "), args...)
	if err != nil {
		return nil, err
	}
	return &child{p}, nil
}

// cpu is the child's user and system time so far, from /proc (0 if it cannot be read).
func (c *child) cpu() time.Duration {
	st, _ := procstat.Read(c.Cmd.Process.Pid)
	return st.CPU
}

func (c *child) stop() { c.Stop(5 * time.Second) }

// rig is the whole chain on this machine: Xvfb, a gateway (with the link in front of it), an
// agent sharing the display; the bench is the viewer.
type rig struct {
	x       *xvfb.Server
	dir     string
	gw, ag  *child
	code    string
	verbose bool
	profile string // the gateway and the agent write their CPU profiles to this directory
}

func startRig(x *xvfb.Server, verbose bool, record, profile string) (*rig, error) {
	r := &rig{x: x, verbose: verbose, profile: profile}
	var err error
	if r.dir, err = os.MkdirTemp("", "deskbench"); err != nil {
		return nil, err
	}
	if r.gw, err = startChild(r.roleArgs("gateway", "-dir", r.dir, "-record", record)...); err != nil {
		return nil, err
	}
	f, err := r.gw.Line("ready")
	if err != nil || len(f) < 3 {
		return nil, fmt.Errorf("gateway: %v %v", f, err)
	}
	if r.ag, err = startChild(r.roleArgs("agent", "-gateway", f[0], "-host-key", strings.Join(f[2:], " "), "-display", x.Display)...); err != nil {
		return nil, err
	}
	a, err := r.ag.Line("ready")
	if err != nil || len(a) != 1 {
		return nil, fmt.Errorf("agent: %v %v", a, err)
	}
	r.code = a[0]
	return r, nil
}

func (r *rig) roleArgs(role string, args ...string) []string {
	out := []string{"-role", role}
	if r.verbose {
		out = append(out, "-v")
	}
	if r.profile != "" && role != "workload" {
		out = append(out, "-cpuprofile", r.profile)
	}
	return append(out, args...)
}

// otc shapes the viewer's link as profile and returns a one-time file that crosses it.
func (r *rig) otc(profile string) (*tickets.OTC, error) {
	if _, err := fmt.Fprintf(r.gw.In, "otc %s %s\n", r.code, profile); err != nil {
		return nil, err
	}
	f, err := r.gw.Line("otc")
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(f[0])
	if err != nil {
		return nil, err
	}
	return tickets.ParseOTC(data)
}

func (r *rig) close() {
	if r.ag != nil {
		r.ag.stop()
	}
	if r.gw != nil {
		r.gw.stop()
	}
	os.RemoveAll(r.dir)
}

// selfCPU is the bench process's own user+system time: the viewer.
func selfCPU() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(syscall.TimevalToNsec(u.Utime) + syscall.TimevalToNsec(u.Stime))
}
