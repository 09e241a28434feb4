// Package xvfb starts a private Xvfb for tests and benchmarks, on a display number the X server
// picks itself (-displayfd), so parallel test binaries never collide on a display.
package xvfb

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/procstat"
)

// Server is a running Xvfb.
type Server struct {
	// Display is the X display name, ":N".
	Display string
	cmd     *exec.Cmd
	done    chan struct{}
}

// CPUTime is the processor time Xvfb has used so far (user and system), read from /proc: what
// benchmarks add to a client's own time for the work the X server did for it.
func (s *Server) CPUTime() (time.Duration, error) {
	st, err := procstat.Read(s.cmd.Process.Pid)
	if err != nil {
		return 0, fmt.Errorf("xvfb: cpu time: %w", err)
	}
	return st.CPU, nil
}

// Start runs Xvfb with the given arguments (screens, extensions) and returns once it accepts
// connections. With no arguments it runs one 1920×1080 24-bit screen.
func Start(ctx context.Context, args ...string) (*Server, error) {
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		return nil, fmt.Errorf("xvfb: Xvfb is not installed (scripts/deps.sh installs the xvfb package): %w", err)
	}
	if len(args) == 0 {
		args = []string{"-screen", "0", "1920x1080x24"}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("xvfb: pipe: %w", err)
	}
	defer r.Close()
	// fd 3 in the child is the write end: Xvfb writes the display number there once it is ready.
	// -noreset: by default the server resets when its last client disconnects, and a client
	// connecting during the reset gets a broken pipe; tests open and close clients in turn.
	cmd := exec.Command(path, append([]string{"-displayfd", "3", "-nolisten", "tcp", "-noreset"}, args...)...)
	cmd.ExtraFiles = []*os.File{w}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("xvfb: start: %w", err)
	}
	w.Close()
	s := &Server{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()

	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("xvfb: no display number (stderr: %s)", strings.TrimSpace(stderr.String()))
		}
		s.Display = ":" + strconv.Itoa(n)
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("xvfb: waiting for the display: %w", ctx.Err())
	}
}

// Close stops the server and waits for it to exit.
func (s *Server) Close() error {
	if s.cmd.Process == nil {
		return nil
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// ForTest starts an Xvfb for the test and stops it at cleanup. A missing Xvfb fails the test
// with a hint instead of skipping it: the capture and input code must not go untested silently.
func ForTest(tb testing.TB, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Start(ctx, args...)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s.Display
}
