// Package fail2ban runs the real fail2ban-regex over a log file, for tests that check that
// assistd's authentication lines are read as sysadmins expect: with the repository's filter
// installed beside Debian's stock ones (as on a server), or with a filter file given by path (as
// a sysadmin first tries it).
package fail2ban

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/testenv"
)

// StockFilterDir is where Debian's fail2ban package installs its filters; the assistd filter
// includes sshd.conf from there.
const StockFilterDir = "/etc/fail2ban/filter.d"

// Match is one failure fail2ban would count: the address it would ban and a log line behind it.
// A failure that fail2ban assembled from several lines of one connection appears once per line.
type Match struct {
	IP   string
	Line string
}

// Failures runs fail2ban-regex over logFile with filter, the name of one of the repository's
// filters with optional arguments ("assistd", "assistd[mode=aggressive]",
// "assistd[logtype=journal]"), installed beside the stock filters, and returns the failures
// fail2ban's server would count.
func Failures(t testing.TB, logFile, filter string) []Match {
	t.Helper()
	return run(t, "--config", configDir(t), logFile, filter)
}

// Lines is the log lines of Failures(t, logFile, "assistd").
func Lines(t testing.TB, logFile string) []string {
	t.Helper()
	var lines []string
	for _, f := range Failures(t, logFile, "assistd") {
		lines = append(lines, f.Line)
	}
	return lines
}

// Regex runs fail2ban-regex over logFile with the filter file at filterPath, given as a path, as
// a sysadmin checks a filter, so the filter must stand alone. extra are more fail2ban-regex
// options (-d '{NONE}' for lines without a date).
func Regex(t testing.TB, logFile, filterPath string, extra ...string) []Match {
	t.Helper()
	return run(t, append(extra, logFile, filterPath)...)
}

// WithRepoFilter is Regex with the repository's assistd filter file itself:
// fail2ban-regex LOG scripts/fail2ban/filter.d/assistd.conf.
func WithRepoFilter(t testing.TB, logFile string) []Match {
	t.Helper()
	return Regex(t, logFile, testenv.RepoFile(t, "scripts/fail2ban/filter.d/assistd.conf"))
}

// run runs fail2ban-regex with args in its --out mode, which judges lines as fail2ban's server
// does (first matching rule wins, pending multi-line failures are not reported), not the default
// report, which counts every rule that matches.
func run(t testing.TB, args ...string) []Match {
	t.Helper()
	bin, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		t.Fatalf("fail2ban-regex not found (install fail2ban: scripts/deps.sh): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"--out", "<ip> <msg>"}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("fail2ban-regex %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	var matches []Match
	for _, row := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		if row == "" {
			continue
		}
		ip, line, ok := strings.Cut(row, " ")
		if !ok || strings.HasPrefix(row, "ERROR") {
			t.Fatalf("unexpected fail2ban-regex output line %q in:\n%s", row, stdout.String())
		}
		matches = append(matches, Match{IP: ip, Line: line})
	}
	return matches
}

// configDir builds a fail2ban configuration directory holding the stock filters plus the
// repository's, so that the assistd filter's include of sshd.conf resolves exactly as on an
// installed system.
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
	ours := testenv.RepoFile(t, "scripts/fail2ban/filter.d")
	if err := os.CopyFS(filters, os.DirFS(ours)); err != nil {
		t.Fatalf("install the repository's filters: %v", err)
	}
	return dir
}
