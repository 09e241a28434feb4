package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/assistkit/assist/internal/harness/testenv"
)

// TestSystemdUnit: the unit is one systemd accepts, and every document it names is one that
// the installation steps install.
func TestSystemdUnit(t *testing.T) {
	unitPath := testenv.RepoFile(t, "scripts/systemd/assistd.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(testenv.RepoFile(t, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := regexp.MustCompile(`(?m)^Documentation=file://(/usr/local/share/doc/assist/(\S+))$`).FindAllStringSubmatch(string(unit), -1)
	if len(docs) == 0 {
		t.Fatal("the unit names no installed document")
	}
	for _, d := range docs {
		installed, name := d[1], d[2]
		testenv.RepoFile(t, name) // the repository has it
		step := "install -Dm 0644 " + name + " " + installed
		if !strings.Contains(string(unit), step) || !strings.Contains(string(readme), step) {
			t.Errorf("Documentation=%s: neither the unit's nor the README's install steps say %q", installed, step)
		}
	}
	// No fixed account exists under DynamicUser=, so no step may chown to one or run as one.
	if strings.Contains(string(readme), "chown -R") || strings.Contains(string(readme), "sudo -u assistd") {
		t.Error("the README tells to chown to, or run as, a service user that DynamicUser= never creates")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze (Debian's systemd package) is needed to check the unit: %v", err)
	}
	// systemd-analyze checks that ExecStart= exists; the unit is checked with a program that does.
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "assistd.service")
	if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/assistd", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
