package sshd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// execAs runs a gateway command as tech with stdin and returns stdout, stderr and the status.
func execAs(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := g.Login(tech).Dial(ctx)
	if err != nil {
		t.Fatalf("log in as %s: %v", tech.Name, err)
	}
	defer c.Close()
	var out, errs testenv.SyncBuffer
	status, err := viewer.Run(ctx, c, args, strings.NewReader(stdin), &out, &errs)
	if err != nil {
		t.Fatalf("%s: %v: %v", tech.Name, args, err)
	}
	return out.String(), errs.String(), status
}

// fileRequest files a request straight into the gateway's store and returns its code.
func fileRequest(t *testing.T, g *testenv.Gateway, name string) string {
	t.Helper()
	filed, err := g.Store.FileRequest(tickets.Filing{Form: tickets.Form{FullName: name, UserName: "pat", Computer: "pat-pc",
		Message: "help", LocalIP: "192.0.2.7"}, AgentKey: "key-" + name, Remote: "192.0.2.7:50000", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return filed.Request.Code
}

// roleRow is one technician command and the roles that may run it. In args, {code} is a fresh
// open request, {mine} a fresh one the caller claimed, {theirs} a fresh one another technician
// claimed, {role} the caller's role and {me} the caller's account name.
type roleRow struct {
	cmd     string // the command's path in the tree
	args    string
	stdin   string
	may     []tickets.Role
	refusal string // what a refused role reads on stderr
	// refusals overrides refusal for a role refused by an earlier check.
	refusals map[tickets.Role]string
	streams  bool // runs until interrupted: allowed means it starts streaming
}

// TestRoleTable runs every technician command as every role over SSH: each is allowed (exit 0)
// or refused with a message naming who may, and the refusal is audited. A command the tree
// gains without a row here fails the test.
func TestRoleTable(t *testing.T) {
	recordings := t.TempDir()
	const recID = "0123456789abcdef" // a file recording get and delete find
	os.WriteFile(filepath.Join(recordings, recID+".rec"), []byte("ASSISTREC\x01"), 0o600)
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) {
		c.Record = sshd.RecordConfig{Mode: sshd.RecordOn, Dir: recordings}
	}})
	tech, admin, auditor := tickets.RoleTechnician, tickets.RoleAdmin, tickets.RoleAuditor
	all := []tickets.Role{tech, admin, auditor}
	workers := []tickets.Role{tech, admin}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(testenv.NewKey(t).PublicKey())))
	rows := []roleRow{
		{cmd: "whoami", may: all},
		{cmd: "request list", may: all},
		{cmd: "request show", args: "{code}", may: all},
		{cmd: "request watch", may: all, streams: true},
		{cmd: "request claim", args: "{code}", may: workers, refusal: "only technicians and admins may work on requests (your role: auditor)"},
		{cmd: "request assign", args: "{code} spare-{role}", may: workers, refusal: "only technicians and admins may work on requests (your role: auditor)"},
		{cmd: "request release", args: "{mine}", may: workers, refusal: "only technicians and admins may work on requests (your role: auditor)"},
		{cmd: "request claim", args: "{theirs}", may: []tickets.Role{admin}, refusal: "is claimed by the-owner\nhint: ask the-owner or an admin",
			refusals: map[tickets.Role]string{auditor: "only technicians and admins may work on requests"}},
		{cmd: "request assign", args: "{theirs} spare-{role}", may: []tickets.Role{admin}, refusal: "is claimed by the-owner",
			refusals: map[tickets.Role]string{auditor: "only technicians and admins may work on requests"}},
		{cmd: "request release", args: "{theirs}", may: []tickets.Role{admin}, refusal: "is claimed by the-owner",
			refusals: map[tickets.Role]string{auditor: "only technicians and admins may work on requests"}},
		{cmd: "request otc", args: "{theirs}", may: []tickets.Role{admin}, refusal: "is claimed by the-owner",
			refusals: map[tickets.Role]string{auditor: "only technicians and admins may connect to a person's computer"}},
		{cmd: "request note", args: "{theirs} seen it too", may: workers, refusal: "only technicians and admins may work on requests (your role: auditor)"},
		{cmd: "request note", args: "{code} called, no answer", may: workers, refusal: "only technicians and admins may work on requests (your role: auditor)"},
		{cmd: "request close", args: "{code}", may: workers, refusal: "only technicians and admins may work on requests (your role: auditor)"},
		{cmd: "request close", args: "--from 198.51.100.9", may: []tickets.Role{admin}, refusal: "only admins may close requests by address",
			refusals: map[tickets.Role]string{auditor: "only technicians and admins may work on requests"}},
		{cmd: "request otc", args: "{code}", may: workers, refusal: "only technicians and admins may connect to a person's computer"},
		{cmd: "user add", args: "new-{role} --key -", stdin: key + "\n", may: []tickets.Role{admin}, refusal: "only admins may manage accounts"},
		{cmd: "user list", may: []tickets.Role{admin}, refusal: "only admins may manage accounts"},
		{cmd: "user passwd", stdin: "correct horse battery staple\n", may: all},
		{cmd: "user passwd", args: "spare-{role}", stdin: "correct horse battery staple\n", may: []tickets.Role{admin}, refusal: "only admins may manage accounts"},
		{cmd: "user remove", args: "spare-{role}", may: []tickets.Role{admin}, refusal: "only admins may manage accounts"},
		{cmd: "audit", args: "--limit 1", may: []tickets.Role{admin, auditor}, refusal: "only admins and auditors may read the audit trail (your role: technician)"},
		{cmd: "recording list", may: []tickets.Role{admin, auditor}, refusal: "only admins and auditors may read the recordings of sessions (your role: technician)"},
		{cmd: "recording get", args: recID, may: []tickets.Role{admin, auditor}, refusal: "only admins and auditors may read the recordings of sessions (your role: technician)"},
		{cmd: "recording delete", args: recID, may: []tickets.Role{admin}, refusal: "only admins may delete recordings"},
	}
	checkRowsCoverTree(t, rows)

	accounts := map[tickets.Role]*testenv.Technician{}
	for _, role := range all {
		accounts[role] = g.AddAccount(t, "the-"+string(role), role)
		g.AddAccount(t, "spare-"+string(role), tickets.RoleTechnician)
	}
	g.AddAccount(t, "the-owner", tech)
	for _, row := range rows {
		for _, role := range all {
			who := accounts[role]
			line := strings.NewReplacer("{role}", string(role), "{me}", who.Name).Replace(row.args)
			if strings.Contains(line, "{code}") {
				line = strings.ReplaceAll(line, "{code}", fileRequest(t, g, fmt.Sprintf("Person %d", time.Now().UnixNano())))
			}
			for placeholder, owner := range map[string]string{"{mine}": who.Name, "{theirs}": "the-owner"} {
				if strings.Contains(line, placeholder) {
					code := fileRequest(t, g, fmt.Sprintf("Person %d", time.Now().UnixNano()))
					if _, err := g.Store.HandOver(tickets.Handover{CodeOrID: code, By: owner, To: owner}); err != nil {
						t.Fatal(err)
					}
					line = strings.ReplaceAll(line, placeholder, code)
				}
			}
			args := append(strings.Fields(row.cmd), strings.Fields(line)...)
			name := strings.Join(args, " ") + " as " + string(role)
			if row.streams && slices.Contains(row.may, role) {
				watchStream(t, g, who, args[2:]...) // fails unless it says it watches
				continue
			}
			_, errs, status := execAs(t, g, who, row.stdin, args...)
			if slices.Contains(row.may, role) {
				if status != 0 {
					t.Errorf("%s: status %d, want allowed: %s", name, status, errs)
				}
				continue
			}
			want := row.refusal
			if r, ok := row.refusals[role]; ok {
				want = r
			}
			if status != 1 || !strings.Contains(errs, want) {
				t.Errorf("%s: status %d, stderr %q; want refused (1) with %q", name, status, errs, want)
			}
			if !refusalAudited(t, g, who.Name, row.cmd) {
				t.Errorf("%s: no refused event for %s naming %q", name, who.Name, row.cmd)
			}
		}
	}
}

// checkRowsCoverTree fails when a command of the tree has no row.
func checkRowsCoverTree(t *testing.T, rows []roleRow) {
	t.Helper()
	pages := sshd.HelpPages("assistd")
	for path := range pages {
		leaf := path != ""
		for other := range pages {
			if strings.HasPrefix(other, path+" ") {
				leaf = false
			}
		}
		if leaf && !slices.ContainsFunc(rows, func(r roleRow) bool { return r.cmd == path }) {
			t.Errorf("command %q has no row in the role table", path)
		}
	}
}

func refusalAudited(t *testing.T, g *testenv.Gateway, actor, what string) bool {
	t.Helper()
	evs, err := g.Store.Events(tickets.EventFilter{Kind: "refused"})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(evs, func(e tickets.Event) bool {
		return e.Actor == actor && strings.HasPrefix(e.Attrs["what"], what)
	})
}
