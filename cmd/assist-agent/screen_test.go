package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// TestScreenUnavailableReachesTechnician: an agent that cannot share the screen says why to the
// person, and the request says it to the technician, in request show and its --json. The
// sessions are what a text console and a Wayland desktop (GNOME's, with and without XWayland)
// put in the environment; no X server answers at that DISPLAY, and the agent does not try one.
func TestScreenUnavailableReachesTechnician(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	for _, tc := range []struct {
		name, why string
		env       []string
	}{
		{"no display", "no display", []string{"DISPLAY=", "WAYLAND_DISPLAY=", "XDG_SESSION_TYPE=tty"}},
		{"Wayland", "Wayland session", []string{"DISPLAY=", "WAYLAND_DISPLAY=wayland-0", "XDG_SESSION_TYPE=wayland"}},
		{"Wayland with XWayland", "Wayland session", []string{"DISPLAY=:97", "WAYLAND_DISPLAY=wayland-0", "XDG_SESSION_TYPE=wayland"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &testenv.SyncBuffer{}
			proc := exec.Command(os.Args[0], "request", "--gateway", g.Addr, "--gateway-key", g.HostKeyLine(), "--name", "Pat "+tc.name, "--consent", "full")
			proc.Env = append(os.Environ(), append(tc.env, runAsAgent+"=1", "XDG_CONFIG_HOME="+t.TempDir())...)
			proc.Stdout, proc.Stderr = out, out
			if err := proc.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { proc.Process.Signal(os.Interrupt); proc.Wait() })
			var req tickets.Request
			testenv.WaitFor(t, 30*time.Second, "the request of "+tc.name, func() bool {
				page, _ := g.Store.Requests(tickets.RequestQuery{})
				for _, r := range page.Requests {
					if r.FullName == "Pat "+tc.name && g.Server.Online(r.ID) {
						req = r
					}
				}
				return req.ID != ""
			})
			if !strings.Contains(out.String(), "screen sharing is unavailable: "+tc.why) {
				t.Errorf("the agent did not tell the person why:\n%s", out)
			}
			js, _, _ := g.Exec(t, alice, "request", "show", req.Code, "--json")
			var v struct{ Screen string }
			if err := json.Unmarshal([]byte(js), &v); err != nil || v.Screen != "unavailable — "+tc.why {
				t.Errorf("request show --json: screen %q (%v), want unavailable — %s\n%s", v.Screen, err, tc.why, js)
			}
			text, _, _ := g.Exec(t, alice, "request", "show", req.Code)
			if !strings.Contains(text, "Screen:            unavailable — "+tc.why+"\n") {
				t.Errorf("request show does not say unavailable — %s:\n%s", tc.why, text)
			}
		})
	}
}
