//go:build !windows

package windesktop

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/wine"
	"github.com/assistkit/assist/tickets"
)

// TestTerminalUnderWineFromConsole: assist-agent.exe is a GUI-subsystem program, which Windows
// starts from cmd with no standard handles; the agent attaches to cmd's console and asks there
// as a console program would. Wine hands a child its parent's handles whatever its subsystem,
// so winprobe's "detached" starts the agent as Windows would (DETACHED_PROCESS, no handles) in
// winprobe's console, which is a terminal here: the form's questions come on the console, the
// answers typed there reach the gateway, and the code is printed. (Ctrl-C is not tried: how Wine's
// console passes it on to a program attached to it was not established.)
func TestTerminalUnderWineFromConsole(t *testing.T) {
	env := shared.Get(t)
	bin := t.TempDir()
	agentExe := wine.BuildAgent(t, bin)
	probe := wine.Build(t, bin, "./testdata/winprobe")
	g := testenv.StartGateway(t, testenv.Options{})
	work := t.TempDir()
	keyFile := filepath.Join(work, "gateway.pub")
	if err := os.WriteFile(keyFile, []byte(g.HostKeyLine()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := env.CommandOnTerminal(ctx, probe, "detached", wine.WindowsPath(agentExe), "request", "--terminal", "--consent", "view",
		"--gateway", g.Addr, "--gateway-key", wine.WindowsPath(keyFile), "--key", wine.WindowsPath(filepath.Join(work, "agent_key")))
	keys, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	screen := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = screen, screen
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		keys.Close()
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("the console showed:\n%q", screen)
		}
	})
	answer := func(prompt, text string) {
		t.Helper()
		testenv.WaitFor(t, time.Minute, "the question "+prompt+" on the console", func() bool { return strings.Contains(screen.String(), prompt) })
		io.WriteString(keys, text+"\r") // Enter on a terminal
	}
	answer("Your full name:", "Pat Console")
	answer("Email:", "pat@example.org")
	answer("Phone:", "+1 555 0100")
	answer("What do you need help with:", "Printer offline")

	var req tickets.Request
	testenv.WaitFor(t, time.Minute, "the request at the gateway, online", func() bool {
		page, _ := g.Store.Requests(tickets.RequestQuery{})
		if len(page.Requests) == 1 && g.Server.Online(page.Requests[0].ID) {
			req = page.Requests[0]
		}
		return req.ID != ""
	})
	if f := req.Form; f.FullName != "Pat Console" || f.Email != "pat@example.org" || f.Phone != "+1 555 0100" || f.Message != "Printer offline" {
		t.Errorf("the gateway holds %+v", f)
	}
	testenv.WaitFor(t, 30*time.Second, "the code on the console", func() bool { return strings.Contains(screen.String(), req.Code) })
}
