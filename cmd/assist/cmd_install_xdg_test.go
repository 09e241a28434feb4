//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistkit/assist/internal/cli"
)

// xdgHome points HOME and XDG_DATA_HOME at a temporary directory and clears what would make
// xdg-mime treat this as a particular desktop, so it uses the freedesktop.org files.
func xdgHome(t *testing.T) (home, data string) {
	t.Helper()
	for _, tool := range []string{"xdg-mime", "update-mime-database"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("this test needs %s (Debian packages xdg-utils and shared-mime-info; scripts/deps.sh installs them): %v", tool, err)
		}
	}
	home = t.TempDir()
	data = filepath.Join(home, "data")
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", data)
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION", "GNOME_DESKTOP_SESSION_ID", "XDG_DATA_DIRS"} {
		t.Setenv(v, "")
	}
	return home, data
}

func queryDefault(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("xdg-mime", "query", "default", otcMIMEType).CombinedOutput()
	if err != nil {
		t.Fatalf("xdg-mime query default: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// assist runs the real command tree, as a person would type it.
func assist(t *testing.T, args ...string) string {
	t.Helper()
	var out, stderr bytes.Buffer
	root := newRootCommand()
	root.SetOut(&out)
	if code := cli.Run(root, args, &stderr); code != 0 {
		t.Fatalf("assist %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return out.String()
}

func TestInstallAssociatesOTCFilesWithXDG(t *testing.T) {
	home, data := xdgHome(t)
	// Someone else's defaults in mimeapps.list must survive install and uninstall.
	mimeapps := filepath.Join(home, ".config", "mimeapps.list")
	other := "[Default Applications]\ntext/plain=org.gnome.TextEditor.desktop\n\n[Added Associations]\nimage/png=viewer.desktop;\n"
	os.MkdirAll(filepath.Dir(mimeapps), 0o755)
	os.WriteFile(mimeapps, []byte(other), 0o644)

	exe := "/opt/help desk/assist" // a space, so the Exec line must quote it
	out := assist(t, "install", "--exe", exe)
	if !strings.Contains(out, ".otc files now open with assist connect") {
		t.Errorf("install said:\n%s", out)
	}
	if got := queryDefault(t); got != desktopFileName {
		t.Fatalf("xdg-mime query default %s = %q, want %s", otcMIMEType, got, desktopFileName)
	}
	desktop, err := os.ReadFile(filepath.Join(data, "applications", desktopFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Exec=\"/opt/help desk/assist\" connect %f\n", "MimeType=application/x-assist-otc;\n"} {
		if !bytes.Contains(desktop, []byte(want)) {
			t.Errorf("%s lacks %q:\n%s", desktopFileName, want, desktop)
		}
	}
	if out, err := exec.Command("desktop-file-validate", filepath.Join(data, "applications", desktopFileName)).CombinedOutput(); err != nil && !isNotFound(err) {
		t.Errorf("desktop-file-validate: %v\n%s", err, out)
	}
	globs, err := os.ReadFile(filepath.Join(data, "mime", "globs2"))
	if err != nil || !bytes.Contains(globs, []byte(otcMIMEType+":*.otc")) {
		t.Errorf("the MIME database does not map *.otc (update-mime-database not run?): %v\n%s", err, globs)
	}

	// Again: idempotent.
	before := snapshot(t, home)
	assist(t, "install", "--exe", exe)
	if after := snapshot(t, home); !equalMaps(before, after, "mime/") {
		t.Errorf("a second install changed files:\nbefore %v\nafter  %v", before, after)
	}
	if n := strings.Count(readFile(t, mimeapps), otcMIMEType); n != 1 {
		t.Errorf("mimeapps.list names the type %d times after two installs:\n%s", n, readFile(t, mimeapps))
	}

	assist(t, "uninstall")
	if got := queryDefault(t); got != "" {
		t.Errorf("after uninstall xdg-mime query default = %q, want nothing", got)
	}
	for _, p := range []string{filepath.Join(data, "applications", desktopFileName), filepath.Join(data, "mime", "packages", mimePackageName), filepath.Join(data, "mime", "application", "x-assist-otc.xml")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still exists after uninstall", p)
		}
	}
	if got := readFile(t, mimeapps); got != other {
		t.Errorf("mimeapps.list after uninstall:\n%s\nwant what was there before:\n%s", got, other)
	}
	assist(t, "uninstall") // nothing left to remove: still fine
}

func isNotFound(err error) bool {
	var e *exec.Error
	return errors.As(err, &e)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snapshot maps every file under dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

// equalMaps compares snapshots, ignoring the content (not the presence) of generated caches
// under a path containing skip: update-mime-database rewrites them every run.
func equalMaps(a, b map[string]string, skip string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || (v != w && !strings.Contains(k, skip)) {
			return false
		}
	}
	return true
}

func TestDesktopExecQuoting(t *testing.T) {
	for path, want := range map[string]string{
		"/usr/local/bin/assist":      "/usr/local/bin/assist",
		"/opt/help desk/assist":      `"/opt/help desk/assist"`,
		"/opt/100%/assist":           "/opt/100%%/assist",
		`/opt/a"b/assist`:            `"/opt/a\\"b/assist"`,
		"/opt/$HOME/assist":          `"/opt/\\$HOME/assist"`,
		`/opt/back\slash/assist`:     `"/opt/back\\\\slash/assist"`,
		"/opt/tick`/assist":          "\"/opt/tick\\\\`/assist\"",
		"/home/ana/bin (old)/assist": `"/home/ana/bin (old)/assist"`,
	} {
		if got := desktopExec(path); got != want {
			t.Errorf("desktopExec(%q) = %s, want %s", path, got, want)
		}
	}
}
