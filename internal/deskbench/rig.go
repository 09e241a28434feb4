package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/workload/xvfb"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// rig is the whole chain on this machine: Xvfb, a gateway with its bbolt store, an agent
// sharing the display, and a technician with a fresh one-time session for each measurement.
type rig struct {
	log     *slog.Logger
	x       *xvfb.Server
	dir     string
	store   *tickets.Bolt
	gw      *sshd.Server
	addr    string
	hostKey ssh.Signer
	code    string
	stop    func()
}

func startRig(ctx context.Context, log *slog.Logger) (*rig, error) {
	r := &rig{log: log}
	var err error
	if r.x, err = xvfb.Start(ctx, "-screen", "0", "1920x1080x24"); err != nil {
		return nil, fmt.Errorf("start Xvfb: %w", err)
	}
	if r.dir, err = os.MkdirTemp("", "deskbench"); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	if r.store, err = tickets.OpenBolt(filepath.Join(r.dir, "assist.db"), tickets.BoltOptions{AuditKey: key}); err != nil {
		return nil, err
	}
	if r.hostKey, err = newSigner(); err != nil {
		return nil, err
	}
	if r.gw, err = sshd.New(sshd.Config{Store: r.store, HostKeys: []ssh.Signer{r.hostKey}, Logger: log}); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.addr = l.Addr().String()
	go r.gw.Serve(l)
	desk, closer, err := agent.OpenDesktop(r.x.Display, log)
	if err != nil {
		return nil, err
	}
	agentKey, err := newSigner()
	if err != nil {
		return nil, err
	}
	filed := make(chan string, 1)
	a, err := agent.New(agent.Config{
		Gateway: r.addr, HostKeys: []ssh.PublicKey{r.hostKey.PublicKey()}, Key: agentKey,
		Form:    tickets.Form{FullName: "Bench Person", Computer: "bench"},
		Consent: grantAll{}, Routes: agent.DesktopRoutes(desk, log), Logger: log,
		Events: func(e agent.Event) {
			if e.Kind == agent.EventFiled {
				select {
				case filed <- e.Code:
				default:
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithCancel(ctx)
	go a.Run(actx)
	r.stop = func() { cancel(); closer.Close() }
	select {
	case r.code = <-filed:
	case <-time.After(20 * time.Second):
		return nil, fmt.Errorf("the agent did not file its request")
	}
	return r, nil
}

// session issues a one-time file and dials it, as assist connect does.
func (r *rig) session(ctx context.Context) (*viewer.Session, error) {
	o, _, err := r.gw.IssueOTC(r.code, "bench", tickets.DefaultTTL, r.addr)
	if err != nil {
		return nil, err
	}
	return viewer.DialOTC(ctx, o)
}

func (r *rig) close() {
	if r.stop != nil {
		r.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.gw.Shutdown(ctx)
	r.store.Close()
	r.x.Close()
	os.RemoveAll(r.dir)
}

type grantAll struct{}

func (grantAll) Ask(context.Context, tickets.ConsentAsk) (tickets.Grant, error) {
	return tickets.GrantView | tickets.GrantControl, nil
}

func newSigner() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}
