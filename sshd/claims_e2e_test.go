package sshd_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// TestClaimAndHandOverTwoTechnicians is issue 17's hand-over with a real agent, OpenSSH's ssh
// and our client: alice claims; bob's otc is refused naming alice; alice assigns to bob; bob's
// otc opens the person's desktop and alice's is refused naming bob; the audit shows each step,
// and request watch saw the claim and the hand-over.
func TestClaimAndHandOverTwoTechnicians(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	bob := g.AddTechnician(t, "bob", false)
	root := g.AddTechnician(t, "root", true)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView, Routes: map[string]agent.Route{
		protocol.FramebufferChannel: echoRoute(protocol.GrantView),
	}})
	code := a.Code()
	watch := openSSHStream(t, g, root, "request", "watch", "--json")

	out, errs, status := openSSH(t, g, alice, "request", "claim", code)
	if status != 0 || !strings.HasPrefix(out, "claimed "+code+" (") {
		t.Fatalf("ssh alice@ request claim: status %d, %q, %q", status, out, errs)
	}
	waitWatchLine(t, watch, "request.claimed", "alice")
	if table, _, _ := openSSH(t, g, bob, "request", "list"); !strings.Contains(table, "waiting, online  alice") {
		t.Errorf("bob's request list does not name alice as the owner:\n%s", table)
	}

	out, errs, status = openSSH(t, g, bob, "request", "otc", code)
	wantErr := "assistd: request " + code + " is claimed by alice\nhint: ask alice or an admin to hand it over: request assign " + code + " bob\n"
	if status != 1 || out != "" || errs != wantErr {
		t.Fatalf("ssh bob@ request otc: status %d, stdout %q, stderr %q; want 1 and %q", status, out, errs, wantErr)
	}
	if _, errs, status := g.Exec(t, bob, "request", "claim", code); status != 1 || !strings.Contains(errs, "is claimed by alice") {
		t.Fatalf("bob claims alice's request: status %d, %q", status, errs)
	}

	out, errs, status = g.Exec(t, alice, "request", "assign", code, "bob", "--json")
	var v struct{ Owner string }
	if status != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Owner != "bob" {
		t.Fatalf("alice assigns to bob: status %d, %q, %q", status, out, errs)
	}
	waitWatchLine(t, watch, "request.assigned", "bob")

	o := g.IssueOTC(t, bob, code)
	echoThrough(t, o)
	if _, errs, status := openSSH(t, g, alice, "request", "otc", code); status != 1 || !strings.Contains(errs, "is claimed by bob") {
		t.Fatalf("alice's otc after the hand-over: status %d, %q", status, errs)
	}

	// The audit, as an admin reads it, has each step in order.
	out, errs, status = openSSH(t, g, root, "audit", "--request", code, "--json")
	if status != 0 {
		t.Fatalf("audit: status %d: %s", status, errs)
	}
	var evs []tickets.Event
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	var steps []string
	for _, e := range evs {
		switch e.Kind {
		case "request.claimed", "request.assigned", "credential.issued", "credential.used":
			steps = append(steps, e.Kind+" "+e.Actor+" "+e.Attrs["owner"])
		case "refused":
			steps = append(steps, e.Kind+" "+e.Actor+" "+e.Attrs["what"]+" "+e.Attrs["owner"])
		}
	}
	want := []string{"request.claimed alice alice", "refused bob request otc alice", "refused bob request claim alice",
		"request.assigned alice bob", "credential.issued bob ", "credential.used bob ", "refused alice request otc bob"}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit steps:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
}

// echoThrough dials o, opens the framebuffer channel to the agent's echo and checks a message
// comes back: the credential opened the person's side.
func echoThrough(t *testing.T, o *tickets.OTC) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatalf("dial the .otc: %v", err)
	}
	defer s.Close()
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatal(viewer.ChannelError(protocol.FramebufferChannel, err))
	}
	go ssh.DiscardRequests(reqs)
	ch.Write([]byte("hello"))
	ch.CloseWrite()
	if got, err := io.ReadAll(ch); err != nil || string(got) != "hello" {
		t.Fatalf("echo through the session: %q, %v", got, err)
	}
}

// waitWatchLine reads request watch --json lines until one of change with owner.
func waitWatchLine(t *testing.T, lines <-chan string, change, owner string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("request watch ended before %s", change)
			}
			var l struct{ Change, Owner string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Change == change && l.Owner == owner {
				return
			}
		case <-timeout:
			t.Fatalf("request watch printed no %s with owner %s", change, owner)
		}
	}
}

// TestClaimRaceOverSSH: two technicians claim one request at the same moment over SSH; exactly
// one wins and the other reads the winner's name.
func TestClaimRaceOverSSH(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	techs := []*testenv.Technician{g.AddTechnician(t, "alice", false), g.AddTechnician(t, "bob", false)}
	for range 3 {
		code := fileRequest(t, g, "Pat Race")
		var wg sync.WaitGroup
		errs := make([]string, 2)
		statuses := make([]int, 2)
		start := make(chan struct{})
		for i, tech := range techs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i], statuses[i] = execAs(t, g, tech, "", "request", "claim", code)
			}()
		}
		close(start)
		wg.Wait()
		r, _ := g.Store.Request(code)
		winner := map[string]int{"alice": 0, "bob": 1}[r.Owner]
		if r.Owner == "" || statuses[winner] != 0 || statuses[1-winner] != 1 ||
			!strings.Contains(errs[1-winner], "is claimed by "+r.Owner) {
			t.Fatalf("owner %q; statuses %v; stderr %q", r.Owner, statuses, errs)
		}
	}
}

// TestNoteOverOpenSSH: a note typed with OpenSSH's ssh, hostile bytes and all, is kept as text,
// shown as text by request show, and audited by size only.
func TestNoteOverOpenSSH(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	code := fileRequest(t, g, "Pat Note")
	out, errs, status := openSSH(t, g, alice, "request", "note", code, "'called, <script>x</script> \x1b[2J done'")
	if status != 0 || !strings.HasPrefix(out, "noted on "+code+" (Pat Note) at ") {
		t.Fatalf("ssh request note: status %d, %q, %q", status, out, errs)
	}
	show, _, _ := openSSH(t, g, alice, "request", "show", code)
	if !strings.Contains(show, "  alice\n    called, <script>x</script> [2J done\n") || strings.Contains(show, "\x1b") {
		t.Errorf("request show:\n%q", show)
	}
	noted := waitEvent(t, g, "request.noted", nil)
	if noted.Actor != "alice" || noted.Attrs["bytes"] != "35" || len(noted.Attrs) != 1 {
		t.Errorf("request.noted event %+v; want alice's, by size only", noted)
	}
}
