// Package authlogtest runs the real fail2ban-regex with the project's
// assistd filter over a log file, for tests that check that assistd's
// authentication lines are read as sysadmins expect (authlog's own tests
// and the gateway's integration tests).
package authlogtest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StockFilterDir is where Debian's fail2ban package installs its filters;
// the assistd filter includes sshd.conf from there.
const StockFilterDir = "/etc/fail2ban/filter.d"

// Failure is one failure fail2ban would count: the address it would ban
// and a log line behind it. A failure that fail2ban assembled from
// several lines of one connection appears once per line.
type Failure struct {
	IP   string
	Line string
}

// RunFail2banRegex runs fail2ban-regex with scripts/fail2ban/filter.d/
// assistd.conf over logFile and returns the lines it counts as failures.
func RunFail2banRegex(t testing.TB, logFile string) (matchedLines []string) {
	t.Helper()
	for _, f := range Failures(t, logFile, "assistd") {
		matchedLines = append(matchedLines, f.Line)
	}
	return matchedLines
}

// Failures runs fail2ban-regex over logFile with filter, the assistd
// filter's name with optional arguments ("assistd",
// "assistd[mode=aggressive]", "assistd[logtype=journal]"), and returns the
// failures fail2ban's server would count. It uses fail2ban-regex's --out
// mode, which judges lines as the server does (first matching rule wins,
// pending multi-line failures are not reported), not the default report,
// which counts every rule that matches.
func Failures(t testing.TB, logFile, filter string) []Failure {
	t.Helper()
	bin, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		t.Fatalf("fail2ban-regex not found (install fail2ban: scripts/deps.sh): %v", err)
	}
	confDir := configDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--out", "<ip> <msg>", "--config", confDir, logFile, filter)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("fail2ban-regex %s %s: %v\nstdout:\n%s\nstderr:\n%s", logFile, filter, err, stdout.String(), stderr.String())
	}
	return parseFailures(t, stdout.String())
}

func parseFailures(t testing.TB, out string) []Failure {
	t.Helper()
	var failures []Failure
	for _, row := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if row == "" {
			continue
		}
		ip, line, ok := strings.Cut(row, " ")
		if !ok || strings.HasPrefix(row, "ERROR") {
			t.Fatalf("unexpected fail2ban-regex output line %q in:\n%s", row, out)
		}
		failures = append(failures, Failure{IP: ip, Line: line})
	}
	return failures
}

// configDir builds a fail2ban configuration directory holding the stock
// filters plus this repository's assistd filter, so that its
// "before = sshd.conf" include resolves exactly as on an installed system.
func configDir(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(StockFilterDir, "sshd.conf")); err != nil {
		t.Fatalf("fail2ban's stock sshd filter is missing (install fail2ban: scripts/deps.sh): %v", err)
	}
	dir := t.TempDir()
	filters := filepath.Join(dir, "filter.d")
	if err := os.CopyFS(filters, os.DirFS(StockFilterDir)); err != nil {
		t.Fatalf("copy stock fail2ban filters: %v", err)
	}
	ours, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "fail2ban", "filter.d", "assistd.conf"))
	if err != nil {
		t.Fatalf("read assistd filter: %v", err)
	}
	if err := os.WriteFile(filepath.Join(filters, "assistd.conf"), ours, 0o644); err != nil {
		t.Fatalf("install assistd filter: %v", err)
	}
	return dir
}

// repoRoot walks up from the test's working directory (its package
// directory) to the directory holding scripts/fail2ban.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "fail2ban")); err == nil {
			return dir
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("look for scripts/fail2ban: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no scripts/fail2ban above the test's directory")
		}
		dir = parent
	}
}
