package assist_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the path every package of the project starts with.
const module = "github.com/assistkit/assist"

// The floors of ../shared/DESIGN.md, lowest first, and what each may import besides itself:
// cmd → {sshd, agent, viewer, helpdesk} → {rdp, tickets} → protocol. A binary imports only its own
// side (no binary imports another side's package); internal/ splits into leaf libraries, the
// harness that only tests and internal programs use, and those programs, which nothing imports.
// Only non-test imports are held to this: tests may bring up a whole system.
var mayImport = map[string][]string{
	"protocol":         nil,
	"lib":              nil, // internal/cli, internal/sftppacket, …: leaf libraries
	"rdp":              {"protocol"},
	"tickets":          {"protocol"},
	"sshd":             {"rdp", "tickets", "protocol", "lib"},
	"agent":            {"rdp", "tickets", "protocol", "lib"},
	"viewer":           {"rdp", "tickets", "protocol", "lib"},
	"helpdesk":         {"rdp", "tickets", "protocol", "lib"},
	"cmd/assistd":      {"sshd", "helpdesk", "rdp", "tickets", "protocol", "lib"},
	"cmd/assist-agent": {"agent", "rdp", "tickets", "protocol", "lib"},
	"cmd/assist":       {"viewer", "rdp", "tickets", "protocol", "lib"},
	"internal/harness": {"sshd", "agent", "viewer", "helpdesk", "rdp", "tickets", "protocol", "lib"},
	"internal/cmd":     {"internal/harness", "sshd", "agent", "viewer", "helpdesk", "rdp", "tickets", "protocol", "lib"},
}

// place names the floor of a package path below the module, and its unit: the subtree inside
// which imports are free (a package and its internal/ packages). A leaf library is a unit of its
// own, so one leaf library may not import another.
func place(rel string) (floor, unit string) {
	under := func(p string) bool { return rel == p || strings.HasPrefix(rel, p+"/") }
	for _, f := range []string{"internal/harness", "internal/cmd", "cmd/assistd", "cmd/assist-agent", "cmd/assist",
		"protocol", "rdp", "tickets", "sshd", "agent", "viewer", "helpdesk"} {
		if under(f) {
			return f, f
		}
	}
	if under("internal") && rel != "internal" {
		parts := strings.SplitN(rel, "/", 3)
		return "lib", parts[0] + "/" + parts[1]
	}
	return "", rel
}

type listedPackage struct {
	ImportPath string
	Imports    []string
}

// violations lists every import that goes against mayImport, and every package with no floor.
func violations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue // the module root holds only this test
		}
		floor, unit := place(rel)
		allowed, known := mayImport[floor]
		if !known {
			out = append(out, fmt.Sprintf("%s has no floor: give it one in arch_test.go, where DESIGN.md puts it", rel))
			continue
		}
		for _, imp := range p.Imports {
			irel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			ifloor, iunit := place(irel)
			if iunit == unit || slices.Contains(allowed, ifloor) {
				continue
			}
			out = append(out, fmt.Sprintf("%s (%s) imports %s (%s)", rel, floor, irel, or(ifloor, "no floor")))
		}
	}
	return out
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// goList lists the module's packages with their non-test imports.
func goList(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestImportsFollowTheDesign pins the arrows of DESIGN.md on the real import graph, so a stray
// import fails here rather than slowly bending the house.
func TestImportsFollowTheDesign(t *testing.T) {
	pkgs := goList(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel, _ := strings.CutPrefix(p.ImportPath, module+"/")
		floor, _ := place(rel)
		seen[floor] = true
	}
	for floor := range mayImport {
		if !seen[floor] {
			t.Errorf("no package on floor %s: go list found %d packages; is the test run from the module root?", floor, len(pkgs))
		}
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestStrayImportsFail checks the checker: each of these imports breaks an arrow.
func TestStrayImportsFail(t *testing.T) {
	for _, tc := range []struct{ from, imp string }{
		{"protocol", "tickets"},
		{"tickets", "rdp"},
		{"tickets", "internal/cli"},
		{"rdp", "agent"},
		{"rdp/internal/wire", "tickets"},
		{"agent", "sshd"},
		{"agent", "viewer"},
		{"viewer", "agent"},
		{"viewer/internal/web", "sshd"},
		{"sshd", "helpdesk"},
		{"helpdesk", "sshd"},
		{"sshd", "internal/harness/testenv"},
		{"cmd/assist-agent", "viewer"},
		{"cmd/assist", "sshd"},
		{"cmd/assistd", "agent"},
		{"internal/cli", "internal/sftppacket"},
		{"internal/sftppacket", "protocol"},
		{"internal/harness/testenv", "internal/cmd/filebench"},
		{"newfolder", "protocol"},
	} {
		got := violations([]listedPackage{{ImportPath: module + "/" + tc.from, Imports: []string{module + "/" + tc.imp}}})
		if len(got) != 1 {
			t.Errorf("%s importing %s: %d violations %q, want 1", tc.from, tc.imp, len(got), got)
		}
	}
	for _, tc := range []struct{ from, imp string }{
		{"sshd", "sshd/internal/authlog"},
		{"agent/internal/xdesktop", "rdp"},
		{"viewer", "internal/sftppacket"},
		{"cmd/assist-agent", "tickets"},
		{"internal/cmd/deskbench", "internal/harness/xvfb"},
		{"internal/harness/testenv", "sshd"},
		{"rdp", "protocol"},
	} {
		if got := violations([]listedPackage{{ImportPath: module + "/" + tc.from, Imports: []string{module + "/" + tc.imp, "golang.org/x/crypto/ssh"}}}); len(got) != 0 {
			t.Errorf("%s importing %s: %q, want no violation", tc.from, tc.imp, got)
		}
	}
}
