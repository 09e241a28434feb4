//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/assistkit/assist/internal/harness/procstat"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

type benchOptions struct {
	dir     string
	size    int64
	runs    int
	sshd    string
	profile string // CPU profiles of the bench and its children go here
}

// childArgs are the arguments of a role process.
func (o benchOptions) childArgs(role string, args ...string) []string {
	a := append([]string{"-role", role}, args...)
	if o.profile != "" {
		a = append(a, "-cpuprofile", o.profile)
	}
	return a
}

// transferPath is one way of moving a file to the other side and back.
type transferPath struct {
	name     string
	put, get func(ctx context.Context, src, dst string) error
}

type result struct {
	name           string
	put, get       float64   // MB/s, best of the runs
	putCPU, getCPU cpuSample // CPU time per GiB, of the best run
}

type bench struct {
	o             benchOptions
	src           string
	sum           [32]byte
	local, remote string
	meter         cpuMeter
	settle        time.Duration // wait before reading CPU times, for sshd to reap its sessions
}

func runBench(ctx context.Context, o benchOptions) error {
	work, err := os.MkdirTemp(o.dir, "filebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b := &bench{o: o, local: filepath.Join(work, "local"), remote: filepath.Join(work, "remote")}
	for _, d := range []string{b.local, b.remote} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	b.src = filepath.Join(b.local, "src.bin")
	if b.sum, err = writeRandom(b.src, o.size); err != nil {
		return err
	}
	fmt.Printf("filebench: %s file (%d bytes), best of %d; %s\n", humanSize(o.size), o.size, o.runs, cpuNote())

	techKey, techPub, err := writeKeyPair(filepath.Join(work, "tech_key"))
	if err != nil {
		return err
	}
	gw, err := startChild(ctx, "gateway", o.childArgs("gateway", "-dir", work, "-tech-key", strings.TrimSpace(string(techPub)))...)
	if err != nil {
		return err
	}
	defer gw.stop()
	addr, hostKey := gw.ready[0], strings.Join(gw.ready[1:], " ")
	ag, err := startChild(ctx, "agent", o.childArgs("agent", "-gateway", addr, "-host-key", hostKey)...)
	if err != nil {
		return err
	}
	defer ag.stop()
	otc, err := issueOTC(ctx, viewer.Login{Gateway: addr, User: benchTechnician, Identity: techKey, GatewayKey: hostKey}, ag.ready[0])
	if err != nil {
		return err
	}
	// The session stays open through the OpenSSH runs: a used credential admits further
	// connections only while its session lives.
	s, err := viewer.DialOTC(ctx, otc)
	if err != nil {
		return err
	}
	defer s.Close()
	files, err := s.Files()
	if err != nil {
		return err
	}
	defer files.Close()
	cfg, err := viewer.WriteSSHConfig(filepath.Join(work, "assist-ssh"), otc)
	if err != nil {
		return err
	}

	paths := []transferPath{
		{"assist API → assistd → agent", func(ctx context.Context, src, dst string) error {
			_, err := files.Put(ctx, []string{src}, dst, viewer.CopyOptions{})
			return err
		}, func(ctx context.Context, src, dst string) error {
			_, err := files.Get(ctx, []string{src}, dst, viewer.CopyOptions{})
			return err
		}},
		sftpPath("OpenSSH sftp → assistd → agent", work, cfg.Config, cfg.Alias),
	}
	b.meter = cpuMeter{procs: map[string]int{"assistd": gw.Cmd.Process.Pid, "agent": ag.Cmd.Process.Pid}}
	var results []result
	for _, p := range paths {
		r, err := b.measure(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		results = append(results, r)
	}
	gwMem, agMem := peakMemory(gw.Cmd.Process.Pid), peakMemory(ag.Cmd.Process.Pid)

	d, err := startOpenSSHD(ctx, filepath.Join(work, "sshd"), o.sshd)
	if err != nil {
		return fmt.Errorf("reference sshd: %w", err)
	}
	defer d.stop()
	b.meter = cpuMeter{procs: map[string]int{"sshd": d.cmd.Process.Pid}}
	b.settle = 300 * time.Millisecond
	for _, p := range []transferPath{
		sftpPath("OpenSSH sftp → sshd (direct)", work, d.clientConf, sshdAlias),
		sftpPath("OpenSSH sftp -J sshd → sshd (jump host)", work, d.clientConf, sshdAlias, "-J", sshdAlias),
	} {
		r, err := b.measure(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: %w (sshd said: %s)", p.name, err, strings.TrimSpace(d.stderr.String()))
		}
		results = append(results, r)
	}
	report(results, gwMem, agMem)
	return nil
}

// measure copies the source to the other side and back, runs times, checking both copies'
// sha256 outside the timing.
func (b *bench) measure(ctx context.Context, p transferPath) (result, error) {
	r := result{name: p.name}
	there, back := filepath.Join(b.remote, "copy.bin"), filepath.Join(b.local, "back.bin")
	defer os.Remove(there)
	defer os.Remove(back)
	for i := 0; i < b.o.runs; i++ {
		os.Remove(there)
		mbs, cpu, err := b.timed(ctx, p.put, b.src, there)
		if err != nil {
			return r, fmt.Errorf("put: %w", err)
		}
		if mbs > r.put {
			r.put, r.putCPU = mbs, cpu
		}
		os.Remove(back)
		if mbs, cpu, err = b.timed(ctx, p.get, there, back); err != nil {
			return r, fmt.Errorf("get: %w", err)
		}
		if mbs > r.get {
			r.get, r.getCPU = mbs, cpu
		}
	}
	return r, nil
}

// timed runs one copy and returns MB/s and the CPU time per GiB of every process involved.
func (b *bench) timed(ctx context.Context, f func(context.Context, string, string) error, src, dst string) (float64, cpuSample, error) {
	before := b.meter.sample()
	start := time.Now()
	if err := f(ctx, src, dst); err != nil {
		return 0, nil, err
	}
	secs := time.Since(start).Seconds()
	time.Sleep(b.settle)
	cpu := b.meter.sample().sub(before)
	for k, v := range cpu {
		cpu[k] = time.Duration(float64(v) * float64(1<<30) / float64(b.o.size))
	}
	sum, err := sha256File(dst)
	if err != nil {
		return 0, nil, err
	}
	if sum != b.sum {
		return 0, nil, fmt.Errorf("%s differs from the source (sha256)", dst)
	}
	return float64(b.o.size) / secs / 1e6, cpu, nil
}

// sftpPath runs OpenSSH's sftp in batch mode with config and extra options (-J).
func sftpPath(name, work, config, alias string, extra ...string) transferPath {
	run := func(ctx context.Context, command string) error {
		batch := filepath.Join(work, "batch")
		if err := os.WriteFile(batch, []byte(command+"\n"), 0o600); err != nil {
			return err
		}
		args := append(append([]string{"-q", "-F", config}, extra...), "-b", batch, alias)
		var errb bytes.Buffer
		cmd := exec.CommandContext(ctx, "sftp", args...)
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("sftp %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
		}
		return nil
	}
	return transferPath{name: name,
		put: func(ctx context.Context, src, dst string) error { return run(ctx, "put "+src+" "+dst) },
		get: func(ctx context.Context, src, dst string) error { return run(ctx, "get "+src+" "+dst) },
	}
}

func issueOTC(ctx context.Context, l viewer.Login, code string) (*tickets.OTC, error) {
	c, err := l.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out, errb bytes.Buffer
	status, err := viewer.Run(ctx, c, []string{"request", "otc", code, "--ttl", "1h"}, nil, &out, &errb)
	if err != nil {
		return nil, err
	}
	if status != 0 {
		return nil, fmt.Errorf("request otc %s: status %d: %s", code, status, strings.TrimSpace(errb.String()))
	}
	return tickets.ParseOTC(out.Bytes())
}

// writeRandom writes size incompressible bytes (SSH does not compress here, but honest data
// costs nothing) and returns their sha256.
func writeRandom(path string, size int64) ([32]byte, error) {
	f, err := os.Create(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{'f', 'i', 'l', 'e', 'b', 'e', 'n', 'c', 'h'})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		chunk := buf[:min(int64(len(buf)), left)]
		rng.Read(chunk)
		h.Write(chunk)
		if _, err := f.Write(chunk); err != nil {
			return [32]byte{}, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return [32]byte(h.Sum(nil)), f.Close()
}

func sha256File(path string) ([32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

// peakMemory is a process's peak resident set (VmHWM) in bytes, or -1.
func peakMemory(pid int) int64 {
	st, err := procstat.Read(pid)
	if err != nil {
		return -1
	}
	return st.Peak
}

func report(rs []result, gwMem, agMem int64) {
	fmt.Printf("\n%-42s %10s %10s\n", "path", "put MB/s", "get MB/s")
	for _, r := range rs {
		fmt.Printf("%-42s %10.1f %10.1f\n", r.name, r.put, r.get)
	}
	direct, jump := rs[2], rs[3]
	fmt.Println()
	for _, ours := range rs[:2] {
		fmt.Printf("%s\n  / direct: put %.2f  get %.2f    / jump host: put %.2f  get %.2f\n",
			ours.name, ours.put/direct.put, ours.get/direct.get, ours.put/jump.put, ours.get/jump.get)
	}
	fmt.Printf("\nCPU seconds per GiB, all processes (steadier than MB/s on a busy machine)\n")
	for _, r := range rs {
		fmt.Printf("%-42s put %5.2f (%s)  get %5.2f (%s)\n", r.name, r.putCPU.total().Seconds(), cpuParts(r.putCPU), r.getCPU.total().Seconds(), cpuParts(r.getCPU))
	}
	fmt.Printf("\npeak memory (VmHWM): assistd %s, agent %s\n", humanSize(gwMem), humanSize(agMem))
}

func cpuParts(s cpuSample) string {
	var parts []string
	for _, k := range []string{"client", "assistd", "sshd", "agent"} {
		if v, ok := s[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, v.Seconds()))
		}
	}
	return strings.Join(parts, ", ")
}

func humanSize(n int64) string {
	switch {
	case n < 0:
		return "unknown"
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
