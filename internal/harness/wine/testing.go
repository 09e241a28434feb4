package wine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/xvfb"
)

// Shared is one Xvfb and one Wine prefix for a package's tests, made on first use (a new prefix
// takes about 15 s to start) and torn down by Close, which the package's TestMain calls after
// m.Run. The zero value is ready; Screen, if set before first use, is Xvfb's -screen argument
// (default 1280x800x24).
type Shared struct {
	Screen string

	once sync.Once
	dir  string
	x    *xvfb.Server
	env  *Env
	err  error
}

// Get returns the shared Env, starting it on first use. Without Wine installed the test is
// skipped, saying so, unless $CI is set: CI installs Wine with scripts/deps.sh, so there its
// absence fails. Any other failure to start fails the test.
func (s *Shared) Get(tb testing.TB) *Env {
	tb.Helper()
	s.once.Do(s.start)
	if errors.Is(s.err, ErrNoWine) && os.Getenv("CI") == "" {
		tb.Skipf("skipping the Windows agent's tests: %v", s.err)
	}
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.env
}

func (s *Shared) start() {
	if _, s.err = FindLoader(); s.err != nil {
		return
	}
	screen := s.Screen
	if screen == "" {
		screen = "1280x800x24"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if s.dir, s.err = os.MkdirTemp("", "assist-wine-"); s.err != nil {
		return
	}
	if s.x, s.err = xvfb.Start(ctx, "-screen", "0", screen); s.err != nil {
		return
	}
	s.env, s.err = Start(ctx, s.dir, s.x.Display)
}

// X is the Xvfb the prefix draws on, once Get started it.
func (s *Shared) X() *xvfb.Server { return s.x }

// Close stops the prefix's programs, the Xvfb, and removes the prefix.
func (s *Shared) Close() {
	if s.env != nil {
		s.env.Close()
	}
	if s.x != nil {
		s.x.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Build cross-compiles the Go package pkg (an import path or a directory) for windows/amd64,
// pure Go, into dir and returns the .exe's path.
func Build(tb testing.TB, dir, pkg string) string {
	tb.Helper()
	out := filepath.Join(dir, filepath.Base(pkg)+".exe")
	goBuild(tb, "build", "-o", out, pkg)
	return out
}

// BuildAgent cross-compiles assist-agent.exe into dir as make dist does: a GUI-subsystem
// program (-H=windowsgui), which Windows starts without a console window.
func BuildAgent(tb testing.TB, dir string) string {
	tb.Helper()
	out := filepath.Join(dir, "assist-agent.exe")
	goBuild(tb, "build", "-ldflags=-H=windowsgui", "-o", out, "github.com/assistkit/assist/cmd/assist-agent")
	return out
}

// BuildTest cross-compiles the tests of the Go package pkg for windows/amd64 into dir and
// returns the test binary's path, which runs under Env.Command with -test.run and friends.
func BuildTest(tb testing.TB, dir, pkg string) string {
	tb.Helper()
	out := filepath.Join(dir, filepath.Base(pkg)+".test.exe")
	goBuild(tb, "test", "-c", "-o", out, pkg)
	return out
}

func goBuild(tb testing.TB, args ...string) {
	tb.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go %v for windows/amd64: %v\n%s", args, err, bytes.TrimSpace(out))
	}
}

// Run runs a Windows program to its end and returns its standard output; a failure fails the
// test with the program's standard error.
func (e *Env) Run(tb testing.TB, ctx context.Context, exe string, args ...string) string {
	tb.Helper()
	out, stderr, err := e.Output(ctx, exe, args...)
	if err != nil {
		tb.Fatalf("wine %s %v: %v\n%s", filepath.Base(exe), args, err, bytes.TrimSpace(stderr))
	}
	return string(out)
}

// String describes the Env for logs.
func (e *Env) String() string {
	return fmt.Sprintf("wine prefix %s on display %s", e.Prefix, e.Display)
}
