//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/benchrole"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Each agent of the bench dials from its own loopback address, 250 to a /24, so the gateway's
// per-address and per-network handshake caps see what many people's machines look like.
func agentIP(i int) net.IP {
	block := i / 250
	return net.IPv4(127, byte(100+block/256), byte(block%256), byte(i%250+1))
}

func newKey() ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		panic(err)
	}
	return s
}

func benchForm(i int) tickets.Form {
	return tickets.Form{FullName: fmt.Sprintf("Load Person %d", i), UserName: "load", Computer: fmt.Sprintf("load-pc-%d", i),
		Email: "load@example.org", Message: "a request from the scale benchmark"}
}

// denyAll is the person's answer in the bench: no technician gets in.
type denyAll struct{}

func (denyAll) Ask(context.Context, protocol.ConsentAsk) (protocol.Grant, error) { return 0, nil }

// loadOptions are a load process's: agents [first, first+count) against gateway.
type loadOptions struct {
	gateway, hostKey string
	first, count     int
	connecting       int
	keepalive        time.Duration
}

// runLoad is a load process: it runs count real agents (agent.Agent, default keepalive and
// reconnect), at most connecting of them connecting at once, prints "filed N" as they file and
// "ready N FAILED" once every one filed or gave up, and stops them when its standard input
// closes.
func runLoad(ctx context.Context, o loadOptions) error {
	hk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(o.hostKey))
	if err != nil {
		return fmt.Errorf("-host-key: %w", err)
	}
	// 9,000 agents hold about 530 MiB here: under the programs' 512 MiB limit (cli.ThroughputGC)
	// the process collected without pause, and on a loaded machine the gateway dropped
	// thousands of its agents for answering its keepalives too late.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256<<20 + int64(o.count)*(128<<10))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	var filed, failed atomic.Int64
	var wg sync.WaitGroup
	slots := make(chan struct{}, o.connecting)
	for i := o.first; i < o.first+o.count && ctx.Err() == nil; i++ {
		slots <- struct{}{}
		first := make(chan struct{})
		var once sync.Once
		release := func() { once.Do(func() { <-slots; close(first) }) }
		a, err := agent.New(agent.Config{
			Gateway: o.gateway, HostKeys: []ssh.PublicKey{hk}, Key: newKey(), Form: benchForm(i), Consent: denyAll{},
			LocalAddr: &net.TCPAddr{IP: agentIP(i)}, Logger: slog.New(slog.DiscardHandler), KeepaliveSilence: o.keepalive,
			Events: func(e agent.Event) {
				if e.Kind == agent.EventFiled && !e.Resumed {
					if n := filed.Add(1); n%1000 == 0 {
						fmt.Printf("filed %d\n", n)
					}
					release()
				}
			},
		})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); ctx.Err() == nil {
				failed.Add(1)
				fmt.Fprintf(os.Stderr, "agent %d stopped: %v\n", i, err)
			}
			release()
		}()
		// An agent that neither files nor fails within a minute gives its slot to the next.
		go func() {
			select {
			case <-first:
			case <-time.After(time.Minute):
				release()
			case <-ctx.Done():
			}
		}()
	}
	for i := 0; i < o.connecting; i++ {
		slots <- struct{}{}
	}
	fmt.Printf("ready %d %d\n", filed.Load(), failed.Load())
	<-ctx.Done()
	wg.Wait()
	return nil
}

// loadProcess is a running load process.
type loadProcess struct {
	*benchrole.Process
	ready chan [2]int // filed, failed
}

func startLoad(o options, gw *gateway, first, count int) (*loadProcess, error) {
	proc, err := benchrole.Start("load", "-role", "load", "-gateway", gw.addr, "-host-key", gw.hostKeyLine,
		"-first", strconv.Itoa(first), "-count", strconv.Itoa(count), "-connecting", strconv.Itoa(o.connecting), "-keepalive", o.keepalive.String())
	if err != nil {
		return nil, err
	}
	p := &loadProcess{Process: proc, ready: make(chan [2]int, 1)}
	go func() {
		sc := bufio.NewScanner(proc.Out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "ready" {
				filed, _ := strconv.Atoi(f[1])
				failed, _ := strconv.Atoi(f[2])
				p.ready <- [2]int{filed, failed}
			}
		}
		close(p.ready)
	}()
	return p, nil
}

// stop closes the process's standard input and waits for it.
func (p *loadProcess) stop() { p.Stop(30 * time.Second) }

// rawAgent is a connection speaking the agent protocol by hand, so the filing phase can time
// the request apart from the handshake.
type rawAgent struct{ conn ssh.Conn }

func dialRaw(ctx context.Context, gw *gateway, i int) (*rawAgent, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: agentIP(i)}, Timeout: 10 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", gw.addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	c, chans, reqs, err := ssh.NewClientConn(nc, gw.addr, &ssh.ClientConfig{
		User: protocol.AgentUser, Auth: []ssh.AuthMethod{ssh.PublicKeys(newKey())},
		HostKeyCallback: ssh.FixedHostKey(gw.hostKey), Timeout: 10 * time.Second,
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)
	go func() {
		for ch := range chans {
			ch.Reject(ssh.Prohibited, "")
		}
	}()
	return &rawAgent{conn: c}, nil
}

// file sends the request and waits for its code.
func (a *rawAgent) file(i int) error {
	ok, reply, err := a.conn.SendRequest(protocol.RequestGlobal, true, tickets.EncodeForm(benchForm(i)))
	if err != nil {
		return err
	}
	if !ok {
		var e protocol.ErrorReply
		ssh.Unmarshal(reply, &e)
		return errors.New("refused: " + e.Message)
	}
	return nil
}
