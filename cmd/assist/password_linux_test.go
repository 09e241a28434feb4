package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// openPTY opens a pseudo-terminal: the test types on and reads from ptm; assist gets pts.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

// TestUserPasswdOnTerminal: assist user passwd on a terminal asks twice without echo, sets the
// password when both agree, and changes nothing otherwise.
func TestUserPasswdOnTerminal(t *testing.T) {
	const good = "correct horse battery staple"
	cases := []struct {
		name   string
		typed  []string
		errors string // "" for success
	}{
		{"twice the same", []string{good, good}, ""},
		{"different", []string{good, good + "!"}, "the two passwords differ; nothing was changed"},
		{"too short", []string{"short"}, "password too short: 5 characters, want at least 12"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testenv.StartGateway(t, testenv.Options{})
			alice := g.AddTechnician(t, "alice", false)
			opts := &globalOptions{gateway: g.Addr, user: "alice", identity: alice.KeyFile, gatewayKey: g.HostKeyLine()}
			ptm, pts := openPTY(t)
			var screen testenv.SyncBuffer
			go io.Copy(&screen, ptm)
			var stdout strings.Builder
			done := make(chan error, 1)
			go func() {
				done <- runRemote(context.Background(), opts, []string{"user", "passwd"}, pts, &stdout, pts)
			}()
			prompts := []string{"New help-desk web password for alice: ", "Repeat it: "}
			for i, typed := range c.typed {
				testenv.WaitFor(t, 10*time.Second, fmt.Sprintf("prompt %q", prompts[i]), func() bool {
					return strings.Count(screen.String(), prompts[i]) == 1
				})
				ptm.Write([]byte(typed + "\n"))
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("assist user passwd did not finish; screen:\n%s", screen.String())
			}
			u, uerr := g.Store.User("alice")
			if uerr != nil {
				t.Fatal(uerr)
			}
			if c.errors == "" {
				if err != nil || !tickets.CheckPassword(u.PasswordHash, good) || stdout.String() != "password set for alice\n" {
					t.Fatalf("err %v, stdout %q, password set: %v", err, stdout.String(), tickets.CheckPassword(u.PasswordHash, good))
				}
			} else if err == nil || !strings.Contains(err.Error(), c.errors) || u.PasswordHash != "" {
				t.Fatalf("err %v, want %q and no password set (hash %q)", err, c.errors, u.PasswordHash)
			}
			testenv.WaitFor(t, 5*time.Second, "the screen to show every line", func() bool {
				return strings.Count(screen.String(), "\n") >= len(c.typed)
			})
			if s := screen.String(); strings.Contains(s, "short") || strings.Contains(s, "horse") {
				t.Fatalf("the password echoed on the terminal:\n%q", s)
			}
		})
	}
}
