package wine_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/wine"
)

var shared wine.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// A Go windows/amd64 program runs in the new prefix: the shim gave the runtime its random
// source, and the program sees Windows.
func TestRunsGoProgram(t *testing.T) {
	env := shared.Get(t)
	exe := wine.Build(t, t.TempDir(), "./testdata/hello")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := env.Run(t, ctx, exe)
	if !strings.HasPrefix(out, "windows/amd64 ") || strings.TrimSpace(strings.TrimPrefix(out, "windows/amd64 ")) == "" {
		t.Fatalf("hello.exe printed %q, want windows/amd64 and a computer name", out)
	}
}

func TestWindowsPath(t *testing.T) {
	if got := wine.WindowsPath("/tmp/a b/c.txt"); got != `Z:\tmp\a b\c.txt` {
		t.Fatalf("WindowsPath = %q", got)
	}
}
