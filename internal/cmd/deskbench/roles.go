//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/benchrole"
	"github.com/assistkit/assist/internal/harness/linkproxy"
	"github.com/assistkit/assist/internal/harness/workload"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

// The gateway, the agent and the workload run as child processes of the bench (this binary
// re-run with -role), so that the CPU each spends is its own and the viewer, in the bench's own
// process, is measured alone. A child prints one "ready …" line and runs until its standard
// input closes.

// runGatewayRole serves a gateway with a fresh store in dir, and in front of it the link the
// viewer crosses (a shaped proxy). It prints "ready GATEWAY LINK HOSTKEYLINE", then answers each
// line "otc CODE PROFILE" on its standard input by shaping the link as PROFILE and printing
// "otc BASE64" of a one-time file that dials the link.
func runGatewayRole(dir, record string, log *slog.Logger) error {
	mode, err := sshd.ParseRecordMode(record)
	if err != nil {
		return err
	}
	recordings := filepath.Join(dir, "recordings")
	if err := os.MkdirAll(recordings, 0o700); err != nil {
		return err
	}
	g, err := benchrole.StartGateway(dir, sshd.Config{Logger: log, Record: sshd.RecordConfig{Mode: mode, Dir: recordings}})
	if err != nil {
		return err
	}
	defer g.Stop()
	link, err := linkproxy.Start(g.Addr.String())
	if err != nil {
		return err
	}
	defer link.Close()
	fmt.Printf("ready %s %s %s\n", g.Addr, link.Addr, g.HostKeyLine())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var code, name string
		if _, err := fmt.Sscanf(in.Text(), "otc %s %s", &code, &name); err != nil {
			return fmt.Errorf("gateway role: bad command %q", in.Text())
		}
		prof, err := linkproxy.ProfileNamed(name)
		if err != nil {
			return err
		}
		link.SetProfile(prof)
		o, _, err := g.Server.IssueOTC(code, "bench", tickets.DefaultTTL, link.Addr)
		if err != nil {
			return err
		}
		fmt.Printf("otc %s\n", base64.StdEncoding.EncodeToString(o.Marshal()))
	}
	return g.Stop()
}

// runAgentRole files a request at the gateway and serves the display's screen; it prints
// "ready CODE", and "ended KIB" each time a framebuffer channel has ended (and the agent has
// done what it does when one ends, such as handing memory back to the system): KIB is the free
// heap the Go runtime then keeps resident (MemStats HeapIdle−HeapReleased), in KiB.
func runAgentRole(gateway, hostKeyLine, display string, log *slog.Logger) error {
	desk, closer, err := agent.OpenDesktop(display, log)
	if err != nil {
		return err
	}
	defer closer.Close()
	routes := agent.DesktopRoutes(desk, log)
	fb := routes[protocol.FramebufferChannel]
	serve := fb.Service
	fb.Service = agent.ServiceFunc(func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, g protocol.Grant) {
		serve.Serve(ctx, ch, reqs, g)
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Println("ended", (m.HeapIdle-m.HeapReleased)>>10)
	})
	routes[protocol.FramebufferChannel] = fb
	return benchrole.Agent(gateway, hostKeyLine, agent.Config{
		Consent: grantAll{}, Logger: log,
		Form:   tickets.Form{FullName: "Bench Person", Computer: "bench"},
		Routes: routes,
	})
}

// runWorkloadRole changes the display's screen in mode for d, writing the record on standard
// output; it stops early when its standard input closes.
func runWorkloadRole(display string, mode workload.Mode, d time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	err := workload.Run(ctx, workload.Options{Display: display, Mode: mode, Duration: d, Out: os.Stdout, Logger: log})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

type grantAll struct{}

func (grantAll) Ask(context.Context, protocol.ConsentAsk) (protocol.Grant, error) {
	return protocol.GrantView | protocol.GrantControl, nil
}
