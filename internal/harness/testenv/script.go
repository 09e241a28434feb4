package testenv

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/assistkit/assist/tickets"
)

// scriptTB lets the harness run inside a testscript command: failures stop the script, and
// cleanups run when the script ends. The outer test only satisfies testing.TB's private
// method; nothing calls it.
type scriptTB struct {
	testing.TB
	ts *testscript.TestScript
}

func (s scriptTB) Helper()                      {}
func (s scriptTB) Fatalf(f string, args ...any) { s.ts.Fatalf(f, args...) }
func (s scriptTB) Fatal(args ...any)            { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s scriptTB) Errorf(f string, args ...any) { s.ts.Fatalf(f, args...) }
func (s scriptTB) Logf(f string, args ...any)   { s.ts.Logf(f, args...) }
func (s scriptTB) Cleanup(f func())             { s.ts.Defer(f) }
func (s scriptTB) TempDir() string {
	dir, err := os.MkdirTemp(s.ts.Getenv("WORK"), "testenv-")
	if err != nil {
		s.ts.Fatalf("temp dir: %v", err)
	}
	return dir
}

// ScriptCommands are testscript commands that start the real parts for CLI scripts:
//
//	gateway            start a gateway with admin technician alice; sets GATEWAY (host:port),
//	                   GATEWAY_KEY (its host key line), GATEWAY_KEY_FILE, IDENTITY (alice's key
//	                   file) and the ASSIST_* variables assist reads
//	agent [NAME]       start an agent filing a request as NAME; sets CODE
//	waitrequest        wait until the gateway holds an open request (filed by a program the
//	                   script started in the background); sets CODE
//	closerequest CODE  close the request as alice
//	authlog REGEXP     the gateway's OpenSSH-style log has a line matching REGEXP (! negates)
//	perm PATH MODE     PATH's permission bits are MODE, in octal (! negates)
//	contains FILE PART FILE holds the contents of file PART (! negates)
//
// outer is the test that runs the scripts.
func ScriptCommands(outer testing.TB) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	var mu sync.Mutex
	gateways := map[*testscript.TestScript]*Gateway{}
	gatewayOf := func(ts *testscript.TestScript) *Gateway {
		mu.Lock()
		defer mu.Unlock()
		g := gateways[ts]
		if g == nil {
			ts.Fatalf("no gateway: run the gateway command first")
		}
		return g
	}
	noNeg := func(ts *testscript.TestScript, neg bool, name string) {
		if neg {
			ts.Fatalf("%s does not take !", name)
		}
	}
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"gateway": func(ts *testscript.TestScript, neg bool, args []string) {
			noNeg(ts, neg, "gateway")
			tb := scriptTB{outer, ts}
			g := StartGateway(tb, Options{})
			alice := g.AddTechnician(tb, "alice", true)
			mu.Lock()
			gateways[ts] = g
			mu.Unlock()
			ts.Defer(func() { mu.Lock(); delete(gateways, ts); mu.Unlock() })
			keyFile := ts.MkAbs("gateway_key.pub")
			if err := os.WriteFile(keyFile, []byte(g.HostKeyLine()+"\n"), 0o644); err != nil {
				ts.Fatalf("%v", err)
			}
			for k, v := range map[string]string{"GATEWAY": g.Addr, "GATEWAY_KEY": g.HostKeyLine(), "GATEWAY_KEY_FILE": keyFile,
				"IDENTITY": alice.KeyFile, "ASSIST_GATEWAY": g.Addr, "ASSIST_USER": "alice", "ASSIST_IDENTITY": alice.KeyFile,
				"ASSIST_GATEWAY_KEY": g.HostKeyLine()} {
				ts.Setenv(k, v)
			}
		},
		"agent": func(ts *testscript.TestScript, neg bool, args []string) {
			noNeg(ts, neg, "agent")
			g := gatewayOf(ts)
			o := AgentOptions{}
			if len(args) > 0 {
				o.Form = tickets.Form{FullName: strings.Join(args, " "), UserName: "pat", Computer: "pat-laptop", Email: "pat@example.org", Phone: "+1 555 0100", Message: "printer broken"}
			}
			a := g.StartAgent(scriptTB{outer, ts}, o)
			ts.Setenv("CODE", a.Code())
		},
		"waitrequest": func(ts *testscript.TestScript, neg bool, args []string) {
			noNeg(ts, neg, "waitrequest")
			g := gatewayOf(ts)
			var code string
			WaitFor(scriptTB{outer, ts}, 20*time.Second, "a request to be filed", func() bool {
				page, err := g.Store.Requests(tickets.RequestQuery{})
				reqs := page.Requests
				if err == nil && len(reqs) > 0 && g.Server.Online(reqs[0].ID) {
					code = reqs[0].Code
				}
				return code != ""
			})
			ts.Setenv("CODE", code)
		},
		"closerequest": func(ts *testscript.TestScript, neg bool, args []string) {
			noNeg(ts, neg, "closerequest")
			if len(args) != 1 {
				ts.Fatalf("usage: closerequest CODE")
			}
			if _, err := gatewayOf(ts).Server.CloseRequest(args[0], "alice"); err != nil {
				ts.Fatalf("close %s: %v", args[0], err)
			}
		},
		"requestclosed": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: requestclosed CODE BY-REGEXP")
			}
			r, err := gatewayOf(ts).Store.Request(args[0])
			ts.Check(err)
			by, err := regexp.MatchString("^(?:"+args[1]+")$", r.ClosedBy)
			ts.Check(err)
			closed := !r.Open() && by
			if closed == neg {
				ts.Fatalf("request %s: state %s, closed by %q; want closed by %q: %v", r.Code, r.State, r.ClosedBy, args[1], !neg)
			}
		},
		"audit": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: audit CODE KIND")
			}
			evs, err := gatewayOf(ts).Store.Events(tickets.EventFilter{Request: args[0]})
			ts.Check(err)
			found := false
			for _, e := range evs {
				found = found || e.Kind == args[1]
			}
			if found == neg {
				ts.Fatalf("audit of %s has %s: %v, want %v", args[0], args[1], found, !neg)
			}
		},
		"perm": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: perm PATH MODE")
			}
			fi, err := os.Stat(ts.MkAbs(args[0]))
			ts.Check(err)
			want, err := strconv.ParseUint(args[1], 8, 32)
			ts.Check(err)
			if got := uint64(fi.Mode().Perm()); (got == want) == neg {
				ts.Fatalf("%s has mode %#o; want %#o: %v", args[0], got, want, !neg)
			}
		},
		"contains": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: contains FILE PART")
			}
			whole, part := ts.ReadFile(args[0]), ts.ReadFile(args[1])
			if strings.Contains(whole, part) == neg {
				ts.Fatalf("%s contains %s: %v, want %v\n%q\nin\n%q", args[0], args[1], neg, !neg, part, whole)
			}
		},
		"authlog": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 1 {
				ts.Fatalf("usage: authlog REGEXP")
			}
			log := gatewayOf(ts).AuthLog.String()
			ok, err := regexp.MatchString("(?m)"+args[0], log)
			if err != nil {
				ts.Fatalf("%v", err)
			}
			if ok == neg {
				ts.Fatalf("auth log match of %q is %v, want %v:\n%s", args[0], ok, !neg, log)
			}
		},
	}
}

// RunScripts runs the testscript files in dir with ScriptCommands; XDG_CONFIG_HOME keeps
// profiles and keys in the script's $WORK.
func RunScripts(t *testing.T, dir string) {
	t.Helper()
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		Cmds:                ScriptCommands(t),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("XDG_CONFIG_HOME", e.WorkDir+"/config")
			return nil
		},
	})
}
