package sshd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/viewer"
)

// watchStream runs "request watch ARGS…" as tech and returns its stdout lines as they come. It
// returns once the gateway says it is watching; the watch ends with the test.
func watchStream(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := g.Login(tech).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); c.Close(); outR.Close(); errR.Close(); <-done })
	go func() {
		defer close(done)
		viewer.Run(ctx, c, append([]string{"request", "watch"}, args...), nil, outW, errW)
		outW.Close()
		errW.Close()
	}()
	if line, err := bufio.NewReader(errR).ReadString('\n'); err != nil || !strings.Contains(line, "watching") {
		t.Fatalf("request watch said %q, %v; want it watching", line, err)
	}
	go io.Copy(io.Discard, errR)
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

func nextLine(t *testing.T, lines <-chan string, within time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("request watch ended")
		}
		return l
	case <-time.After(within):
		t.Fatalf("no line from request watch within %s", within)
		return ""
	}
}

// TestRequestWatchJSON: a real agent's filing reaches request watch --json at once, as a JSON
// line naming the change and the request; its going offline and closing follow.
func TestRequestWatchJSON(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	lines := watchStream(t, g, alice, "--json")

	start := time.Now()
	a := g.StartAgent(t, testenv.AgentOptions{})
	var got sshd.WatchLine
	line := nextLine(t, lines, 5*time.Second)
	t.Logf("request watch --json printed the filing %s after the agent started", time.Since(start).Round(time.Millisecond))
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("not a JSON line: %q: %v", line, err)
	}
	if got.Change != "request.filed" || got.Code != a.Code() || got.FullName != "Pat Person" || !got.Online || got.State != "waiting" {
		t.Fatalf("line = %+v, want the filing of %s, online and waiting", got, a.Code())
	}

	a.Stop()
	if err := json.Unmarshal([]byte(nextLine(t, lines, 20*time.Second)), &got); err != nil || got.Change != "agent.disconnected" || got.Online {
		t.Fatalf("after the agent stopped: %+v, %v; want it offline", got, err)
	}
	if _, errs, status := g.Exec(t, alice, "request", "close", got.Code); status != 0 {
		t.Fatal(errs)
	}
	if err := json.Unmarshal([]byte(nextLine(t, lines, 5*time.Second)), &got); err != nil || got.Change != "request.closed" || got.State != "closed" {
		t.Fatalf("after close: %+v, %v", got, err)
	}
}

// TestRequestWatchPlainSSH: OpenSSH's ssh runs the watch too and gets a line per change.
func TestRequestWatchPlainSSH(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	lines := openSSHStream(t, g, alice, "request", "watch")
	a := g.StartAgent(t, testenv.AgentOptions{})
	if line := nextLine(t, lines, 10*time.Second); !strings.Contains(line, "new") || !strings.Contains(line, a.Code()) || !strings.Contains(line, "Pat Person (pat-laptop): printer broken") {
		t.Fatalf("ssh … request watch printed %q", line)
	}
}
