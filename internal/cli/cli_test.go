package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// run executes a one-command tree whose command returns err.
func run(err error, args ...string) (int, string) {
	root := &cobra.Command{Use: "prog", RunE: func(*cobra.Command, []string) error { return err }}
	root.Flags().Bool("flag", false, "")
	root.AddCommand(&cobra.Command{Use: "sub", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return err }})
	var stderr bytes.Buffer
	root.SetOut(&bytes.Buffer{})
	code := Run(root, args, &stderr)
	return code, stderr.String()
}

func TestRunExitCodesAndMessages(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		args   []string
		code   int
		stderr string
	}{
		{"ok", nil, nil, ExitOK, ""},
		{"plain error", errors.New("open store: locked"), nil, ExitError, "prog: open store: locked\n"},
		{"hinted", WithHint(fmt.Errorf("wrapped: %w", errors.New("boom")), "try again"), nil, ExitError, "prog: wrapped: boom\nhint: try again\n"},
		{"wrapped hint", fmt.Errorf("outer: %w", WithHint(errors.New("inner"), "do this")), nil, ExitError, "prog: outer: inner\nhint: do this\n"},
		{"usage", &Usage{errors.New("--x: bad")}, nil, ExitUsage, "prog: --x: bad\nhint: run 'prog --help' for usage\n"},
		{"usage with hint", WithHint(&Usage{errors.New("need --gateway")}, "ask your help desk"), nil, ExitUsage,
			"prog: need --gateway\nhint: ask your help desk\nhint: run 'prog --help' for usage\n"},
		{"remote exit status", ExitStatus(3), nil, 3, ""},
		{"unknown flag", nil, []string{"--nope"}, ExitUsage, "prog: unknown flag: --nope\nhint: run 'prog --help' for usage\n"},
		{"wrong argument count", nil, []string{"sub", "a", "b"}, ExitUsage, "accepts 1 arg(s), received 2"},
	}
	for _, c := range cases {
		code, stderr := run(c.err, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) || (c.stderr == "" && stderr != "") {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", c.name, code, stderr, c.code, c.stderr)
		}
	}
}

func TestWithHintNil(t *testing.T) {
	if WithHint(nil, "x") != nil {
		t.Fatal("WithHint(nil) is not nil")
	}
}
