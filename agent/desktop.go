package agent

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync/atomic"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
)

// Desktop is the person's screen and input, as the desktop routes serve them.
type Desktop interface {
	rdp.Screen
	rdp.Injector
}

// inputReleaser is a Desktop that can let go of every key and button it pressed.
type inputReleaser interface{ ReleaseInput() }

// DesktopRoutes serve the screen to sessions the person let see it, and input to sessions the
// person let control it.
func DesktopRoutes(d Desktop, log *slog.Logger) map[string]Route {
	var screens atomic.Int32 // framebuffer channels being served
	return map[string]Route{
		protocol.FramebufferChannel: {Need: protocol.GrantView, Service: ServiceFunc(func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, _ protocol.Grant) {
			go ssh.DiscardRequests(reqs)
			screens.Add(1)
			err := rdp.ServeFramebuffer(ctx, ch, d, rdp.FramebufferOptions{Logger: log})
			if screens.Add(-1) == 0 {
				returnMemory()
			}
			if err != nil {
				log.Info("framebuffer ended", "err", err)
			}
		})},
		protocol.InputChannel: {Need: protocol.GrantView | protocol.GrantControl, Service: ServiceFunc(func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, g protocol.Grant) {
			go ssh.DiscardRequests(reqs)
			// Both the gateway and this route checked the grant; ViewOnly is a third lock.
			err := rdp.ServeInput(ctx, ch, d, rdp.InputOptions{Logger: log, ViewOnly: !g.Allows(protocol.GrantControl)})
			if r, ok := d.(inputReleaser); ok {
				r.ReleaseInput() // never leave a key or button held down when the technician goes
			}
			if err != nil {
				log.Info("input ended", "err", err)
			}
		})},
	}
}

// returnMemory gives the memory of the sessions that ended back to the system. A framebuffer
// session holds about 30 MiB while it lives (the mirror of the viewer's image and the capture,
// 8 MiB each at 1080p, and the stream's 8 MiB zstd window), all garbage once it ends; but the
// agent collects at GOGC=400 (cli.ThroughputGC), so that garbage stayed in its RSS, and each
// new session's buffers came on top of it until the heap reached five times the live one:
// that was the "86 → 136 MiB over 17 sessions", not a leak (rdp's
// TestFramebufferSessionsLeaveHeap: the live heap after 20 sessions is the one after the first).
// Measured in-process at GOGC=400 over 20 1080p sessions: RSS 159 → 367–397 MiB without this.
// ServeFramebuffer lets go of the session's buffers before it returns (its read loop may still
// be on its way out), so the collection here finds them garbage.
//
// The forced release runs with one P. When it ran beside the rest of the session tearing
// down on the other core (the input channel, the SSH channels' goroutines), the runtime's
// scavenger now and then lost track of pages freed while it walked the heap: 1–3.3 MiB of
// free heap stayed resident (MemStats HeapIdle−HeapReleased, right after FreeOSMemory, with
// HeapInuse and StackInuse unchanged), and no later FreeOSMemory, even on one P, returned it.
// That was the step in `deskbench -sessions 50`: RSS +14% and +23% after 50 sessions in two
// runs of ten, +4.5% to +7.8% in the others. With GOMAXPROCS 1 around the release, 0–0.1 MiB
// stays, and the step did not show in any of 22 runs. Going to one P and back stops the world
// twice (about 50 µs here, beside FreeOSMemory's 3–4 ms); GOMAXPROCS is set back to what it
// was, which, like any call, ends the runtime's automatic updates of it.
func returnMemory() {
	procs := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(procs)
	debug.FreeOSMemory()
}
