//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/assistkit/assist/internal/harness/procstat"
	"github.com/assistkit/assist/internal/harness/workload"
	"github.com/assistkit/assist/viewer"
)

// sessionUpdates is how many updates each measured session pulls: enough for the agent's
// buffers, encoder and stream to reach their working size on full's scenes.
const sessionUpdates = 10

// sessionMemory connects n viewer sessions to the agent one after another on the lan link,
// each with its framebuffer and input channels, pulling sessionUpdates updates of the full
// workload before it disconnects, and returns the agent's memory after each: read once the
// agent says the session's framebuffer channel has ended.
func (r *rig) sessionMemory(ctx context.Context, n int) ([]agentMemory, error) {
	w, err := startChild(r.roleArgs("workload", "-display", r.x.Display, "-mode", string(workload.Full), "-duration", "1h")...)
	if err != nil {
		return nil, err
	}
	defer w.stop()
	go io.Copy(io.Discard, w.Out)
	var mem []agentMemory
	for i := range n {
		if err := r.session(ctx); err != nil {
			return nil, fmt.Errorf("session %d: %w", i+1, err)
		}
		f, err := r.ag.Line("ended")
		if err != nil {
			return nil, err
		}
		var m agentMemory
		if len(f) != 1 {
			return nil, fmt.Errorf("agent said ended %q, want the kept heap", f)
		}
		if m.keptKB, err = strconv.ParseInt(f[0], 10, 64); err != nil {
			return nil, fmt.Errorf("agent's kept heap: %w", err)
		}
		st, err := procstat.Read(r.ag.Cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		m.rssKB = st.RSS >> 10
		mem = append(mem, m)
	}
	return mem, nil
}

// agentMemory is the agent's memory once a session ended: its RSS from /proc, and the free
// heap the Go runtime kept resident rather than returning it to the system.
type agentMemory struct{ rssKB, keptKB int64 }

// session is one connect/disconnect cycle of a viewer.
func (r *rig) session(ctx context.Context) error {
	o, err := r.otc("lan")
	if err != nil {
		return err
	}
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	in, err := s.Input()
	if err != nil {
		return err
	}
	defer in.Close()
	fb, err := s.Framebuffer(2)
	if err != nil {
		return err
	}
	defer fb.Close()
	uctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for range sessionUpdates {
		if _, err := fb.Next(uctx); err != nil {
			return err
		}
	}
	return nil
}

// memoryRow says how the agent's memory went over the sessions.
func memoryRow(mem []agentMemory) string {
	mib := func(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
	var most agentMemory
	for _, m := range mem {
		most.rssKB, most.keptKB = max(most.rssKB, m.rssKB), max(most.keptKB, m.keptKB)
	}
	first, last := mem[0], mem[len(mem)-1]
	return fmt.Sprintf("agent RSS after each of %d sessions (full, %d updates each, lan): after the first %s, after the last %s (%+.1f%%), max %s; free heap the runtime kept: after the last %s, max %s",
		len(mem), sessionUpdates, mib(first.rssKB), mib(last.rssKB), 100*float64(last.rssKB-first.rssKB)/float64(first.rssKB),
		mib(most.rssKB), mib(last.keptKB), mib(most.keptKB))
}
