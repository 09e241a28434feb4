package assist_test

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// needsCgo names, per target, the packages outside the project that cannot be built without
// cgo there, and why; a package of the project that imports one is built only with cgo there.
var needsCgo = map[string]map[string]string{
	"darwin/arm64": {"gioui.org/app": "Gio's windows on macOS are Cocoa, through cgo"},
}

// Every package of the module builds for Windows and macOS without cgo, as `make dist` and the
// help desk's downloads need, except where a dependency named in needsCgo rules it out: so a
// Linux-only call (syscall.Getrusage, /proc) cannot slip into a package the other platforms build.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the module twice")
	}
	for _, target := range []string{"windows/amd64", "darwin/arm64"} {
		t.Run(strings.ReplaceAll(target, "/", "_"), func(t *testing.T) {
			env := append(os.Environ(), "GOOS="+strings.Split(target, "/")[0], "GOARCH="+strings.Split(target, "/")[1], "CGO_ENABLED=0")
			pkgs, skipped := pureGoPackages(t, env, needsCgo[target])
			for p, why := range skipped {
				t.Logf("%s needs cgo on %s: %s", p, target, why)
			}
			cmd := exec.Command("go", append([]string{"build"}, pkgs...)...)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build for %s without cgo: %v\n%s", target, err, out)
			}
		})
	}
}

// pureGoPackages lists the module's packages that have code (not only tests) for env's target,
// leaving out those that import
// a package of cgoOnly (returned with the reason).
func pureGoPackages(t *testing.T, env []string, cgoOnly map[string]string) (pkgs []string, skipped map[string]string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", "{{if .GoFiles}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}\n{{end}}", "./...")
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	skipped = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if i := slices.IndexFunc(f[1:], func(d string) bool { return cgoOnly[d] != "" }); i >= 0 {
			skipped[f[0]] = f[1+i] + ": " + cgoOnly[f[1+i]]
			continue
		}
		pkgs = append(pkgs, f[0])
	}
	if len(pkgs) == 0 {
		t.Fatal("no package to build")
	}
	return pkgs, skipped
}
