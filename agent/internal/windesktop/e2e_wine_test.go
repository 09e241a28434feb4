//go:build !windows

package windesktop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/internal/harness/uitrace"
	"github.com/assistkit/assist/internal/harness/wine"
	"github.com/assistkit/assist/internal/harness/xvfb"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// TestWindowsAgentUnderWine is the Windows agent end to end: the real assist-agent.exe, under
// Wine on Xvfb, files a request with a real gateway on loopback; a technician's snapshot equals
// the X server's picture of the Wine desktop; typing, a click and the clipboard reach a Windows
// program (winprobe) in the same Wine.
func TestWindowsAgentUnderWine(t *testing.T) {
	env := shared.Get(t)
	bin := t.TempDir()
	agentExe := wine.BuildAgent(t, bin)
	probe := wine.Build(t, bin, "./testdata/winprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The Windows program, full screen, painted with a known pattern.
	probeDir := t.TempDir()
	background(t, env.Command(ctx, probe, "window", wine.WindowsPath(probeDir)))
	testenv.WaitFor(t, time.Minute, "winprobe to paint its window", func() bool { return exists(filepath.Join(probeDir, "ready")) })

	// The agent files a request.
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	work := t.TempDir()
	keyFile := filepath.Join(work, "gateway.pub")
	if err := os.WriteFile(keyFile, []byte(g.HostKeyLine()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	agentLog := background(t, env.Command(ctx, agentExe, "request", "--verbose", "--gateway", g.Addr, "--gateway-key", wine.WindowsPath(keyFile),
		"--key", wine.WindowsPath(filepath.Join(work, "agent_key")), "--name", "Pat Person", "--email", "pat@example.org",
		"--phone", "+1 555 0100", "--message", "printer offline", "--consent", "full")).out
	var req tickets.Request
	testenv.WaitFor(t, time.Minute, "the Windows agent's request", func() bool {
		page, err := g.Store.Requests(tickets.RequestQuery{})
		if err == nil && len(page.Requests) > 0 && g.Server.Online(page.Requests[0].ID) {
			req = page.Requests[0]
			return true
		}
		return false
	})
	// The user and computer names are what Windows says: DOMAIN\user (as whoami prints it) and
	// the host name, which Wine takes from Linux; COMPUTERNAME is its NetBIOS form, upper case.
	who := strings.Fields(env.Run(t, ctx, "cmd", "/c", "echo %USERDOMAIN%\\%USERNAME% %COMPUTERNAME%"))
	if len(who) != 2 || req.UserName != who[0] || !strings.EqualFold(req.Computer, who[1]) || req.FullName != "Pat Person" {
		t.Fatalf("request user %q computer %q name %q; Windows says %q", req.UserName, req.Computer, req.FullName, who)
	}

	// Wine 8.0 has no desktop duplication: the agent says it captures with GDI, and why.
	if log := readFile(agentLog); !strings.Contains(log, `msg="screen capture: GDI BitBlt, polled" reason="output \\\\.\\DISPLAY1: DuplicateOutput: E_NOTIMPL (0x80004001)"`) {
		t.Errorf("the agent's log does not say GDI was chosen because Wine lacks DuplicateOutput:\n%s", log)
	}

	o := g.IssueOTC(t, tech, req.Code)
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	t.Run("snapshot", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.png")
		if err := viewer.Snapshot(ctx, s, -1, path); err != nil {
			t.Fatal(err)
		}
		want, err := xvfb.Screenshot(env.Display)
		if err != nil {
			t.Fatal(err)
		}
		got := testenv.ReadPNG(t, path)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("snapshot %v, X screen %v", got.Bounds(), want.Bounds())
		}
		if n := testenv.DifferingPixels(got, want); n != 0 {
			t.Fatalf("%d pixels differ between the snapshot and the X server's screenshot", n)
		}
		if c := want.RGBAAt(350, 230); c.R != 0 || c.G != 0xff || c.B != 0 {
			t.Fatalf("the X screen at (350,230) is %v, not winprobe's green block: the window is not up", c)
		}
	})

	in, err := s.Input()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.SecureAttention() {
		t.Error("the Windows agent offers Ctrl+Alt+Del, which no ordinary process can send")
	}

	t.Run("click", func(t *testing.T) {
		for _, b := range []uint8{0, 1, 0} {
			if err := in.Pointer(345, 217, b); err != nil {
				t.Fatal(err)
			}
		}
		testenv.WaitFor(t, 30*time.Second, "winprobe to see the click", func() bool { return readFile(filepath.Join(probeDir, "clicks")) != "" })
		if got := readFile(filepath.Join(probeDir, "clicks")); got != "345 217\n" {
			t.Fatalf("winprobe saw clicks %q, want at 345 217", got)
		}
	})

	t.Run("typing", func(t *testing.T) {
		const text = "Hello, Wine! 1+1=2 @home\nça coûte 5 € — Жж 😀\n"
		if err := in.Type(text); err != nil {
			t.Fatal(err)
		}
		typed := filepath.Join(probeDir, "typed")
		testenv.WaitFor(t, 30*time.Second, "winprobe to receive the text", func() bool { return len(readFile(typed)) >= len(text) })
		if got := readFile(typed); got != text {
			t.Fatalf("winprobe received %q, want %q", got, text)
		}
	})

	// Real X input reaches Wine's windows too: what xdotool types on the Xvfb arrives in
	// winprobe as WM_CHAR, as a person's typing would.
	t.Run("x input", func(t *testing.T) {
		xdo := func(args ...string) string {
			cmd := exec.Command("xdotool", args...)
			cmd.Env = append(os.Environ(), "DISPLAY="+env.Display)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("xdotool %v: %v\n%s", args, err, out)
			}
			return strings.TrimSpace(string(out))
		}
		id, _, _ := strings.Cut(xdo("search", "--name", "^winprobe$"), "\n")
		xdo("windowfocus", "--sync", id)
		typed := filepath.Join(probeDir, "typed")
		before := readFile(typed)
		xdo("type", "--delay", "20", "xdo typed")
		testenv.WaitFor(t, 30*time.Second, "winprobe to receive xdotool's keys", func() bool { return len(readFile(typed)) >= len(before)+len("xdo typed") })
		if got := strings.TrimPrefix(readFile(typed), before); got != "xdo typed" {
			t.Fatalf("winprobe received %q from xdotool, want %q", got, "xdo typed")
		}
	})

	t.Run("clipboard", func(t *testing.T) {
		if !in.HasClipboard() {
			t.Fatal("the Windows agent offers no clipboard")
		}
		const toPerson = "from the technician ✓\nsecond line"
		if err := in.SetClipboard(toPerson); err != nil {
			t.Fatal(err)
		}
		var got string
		testenv.WaitFor(t, 30*time.Second, "the text on the Windows clipboard", func() bool {
			got = env.Run(t, ctx, probe, "clip-get")
			return got != ""
		})
		if got != strings.ReplaceAll(toPerson, "\n", "\r\n") {
			t.Fatalf("the Windows clipboard holds %q", got)
		}
		const fromPerson = "from the person ✓"
		env.Run(t, ctx, probe, "clip-set", fromPerson)
		deadline := time.After(30 * time.Second)
		for {
			select {
			case c := <-in.Clipboard():
				if c == fromPerson {
					return
				}
			case <-deadline:
				t.Fatal("the viewer never heard of the person's clipboard")
			}
		}
	})
}

// process is a program started in the background: the file of its output, and its end.
type process struct {
	out    string
	exited chan error // gets cmd.Wait's error once
}

// background starts cmd and stops it when the test ends, if it has not ended; a failed test
// logs its output.
func background(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out-")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	p := &process{out: f.Name(), exited: make(chan error, 1)}
	done := make(chan struct{})
	go func() { p.exited <- cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		f.Close()
		if t.Failed() {
			t.Logf("%s:\n%s", filepath.Base(cmd.Args[1]), readFile(f.Name()))
		}
	})
	return p
}

// program is a Windows program that winprobe started (winprobe start), in the background.
type program struct {
	*process // winprobe's
	codeFile string
}

// startProgram starts exe with args through winprobe start, which hands it its output (the
// program's out file); the test's end ends both.
func startProgram(t *testing.T, env *wine.Env, exe string, args ...string) *program {
	t.Helper()
	cmd, codeFile := startCommand(t, context.Background(), env, exe, args...)
	return &program{process: background(t, cmd), codeFile: codeFile}
}

// startCommand is the command that runs exe with args through winprobe start, and the file
// winprobe writes exe's exit code to once exe has ended: how a Windows program ended is read
// there, not from the Wine loader's exit status (see winprobe's start).
func startCommand(tb testing.TB, ctx context.Context, env *wine.Env, exe string, args ...string) (*exec.Cmd, string) {
	tb.Helper()
	dir := tb.TempDir()
	probe := wine.Build(tb, dir, "./testdata/winprobe")
	codeFile := filepath.Join(dir, "exit-code")
	return env.Command(ctx, probe, append([]string{"start", wine.WindowsPath(codeFile), wine.WindowsPath(exe)}, args...)...), codeFile
}

// exitCode waits until the program has ended, for what, and returns its exit code as Windows
// gives it. winprobe's own end is the event: whether its Linux process exited or wineserver
// killed it (see winprobe's start), it had written the code first.
func (p *program) exitCode(t *testing.T, what string) string {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(uitrace.Timeout):
		t.Fatalf("timed out waiting for %s", what)
	}
	code := readFile(p.codeFile)
	if code == "" {
		t.Fatalf("winprobe gave no exit code for %s:\n%s", what, readFile(p.out))
	}
	return code
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func readFile(p string) string { b, _ := os.ReadFile(p); return string(b) }
