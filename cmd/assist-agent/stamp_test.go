package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// stampedAgent writes a copy of this program (which runs as assist-agent) stamped for g, as the
// gateway's /help page stamps the agent it hands out, and returns its path.
func stampedAgent(t *testing.T, g *testenv.Gateway) string {
	t.Helper()
	return g.Stamp(t, os.Args[0], "assist-agent")
}

// onCleanHome runs the program at path as assist-agent with args, for a person who never ran
// it: an empty home and config directory, and no ASSIST_ variables.
func onCleanHome(t *testing.T, path string, env []string, args ...string) (*exec.Cmd, *testenv.SyncBuffer) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(path, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ASSIST_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append(env, runAsAgent+"=1", "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))...)
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// TestStampedAgentFilesWithoutFlags: the stamped agent, on a clean home, files with the gateway
// and key of its stamp, no --gateway flags given.
func TestStampedAgentFilesWithoutFlags(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	cmd, out := onCleanHome(t, stampedAgent(t, g), []string{"DISPLAY="}, "request", "--name", "Pat Stamped", "--consent", "view")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	testenv.WaitFor(t, 30*time.Second, "the stamped agent's request", func() bool {
		page, _ := g.Store.Requests(tickets.RequestQuery{})
		return len(page.Requests) == 1 && page.Requests[0].FullName == "Pat Stamped" && g.Server.Online(page.Requests[0].ID)
	})
	testenv.WaitFor(t, 10*time.Second, "the code on the terminal", func() bool {
		return strings.Contains(out.String(), "Your request code is ")
	})
}

// TestTamperedStampRefused: a stamp changed after the gateway signed it stops the agent before
// it dials anything, with a clear error and what to do.
func TestTamperedStampRefused(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	path := stampedAgent(t, g)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(b, []byte("help-desk Example IT"))
	if i < 0 {
		t.Fatal("no stamp in the stamped agent")
	}
	copy(b[i:], "help-desk Exemple IT") // someone "fixes" the name
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, out := onCleanHome(t, path, []string{"DISPLAY="}, "request", "--name", "Pat Tampered", "--consent", "view")
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("tampered agent: %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{
		"assist-agent: this copy of assist-agent was changed after your help desk made it: the stamp does not verify",
		"hint: download it again from your help desk's Get help page",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the tampered agent said:\n%s\nwant %q", out, want)
		}
	}
	if page, _ := g.Store.Requests(tickets.RequestQuery{Closed: true}); len(page.Requests) != 0 {
		t.Errorf("a tampered agent filed %+v", page.Requests)
	}
}
