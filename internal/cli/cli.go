// Package cli runs the three programs' Cobra trees the same way: SIGINT and SIGTERM cancel the
// context, errors print once to stderr prefixed with the program's name, with a hint line when the
// fix is known, and map to exit codes here and nowhere else.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitCanceled = 130
)

// Hinted is an error with advice for the person who ran the command.
type Hinted struct {
	Err  error
	Hint string
}

func (e *Hinted) Error() string { return e.Err.Error() }
func (e *Hinted) Unwrap() error { return e.Err }

// WithHint attaches a hint to err (nil stays nil).
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Hinted{err, hint}
}

// Usage marks a usage error (exit code 2).
type Usage struct{ Err error }

func (e *Usage) Error() string { return e.Err.Error() }
func (e *Usage) Unwrap() error { return e.Err }

// ExitStatus is an error that carries an exact exit status (a remote command's, for instance)
// whose message was already printed.
type ExitStatus int

func (e ExitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs root with os.Args and exits.
func Main(root *cobra.Command) {
	os.Exit(Run(root, os.Args[1:], os.Stderr))
}

// Run executes root with args and returns the exit code; tests call it directly.
func Run(root *cobra.Command, args []string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &Usage{err} })
	err := root.ExecuteContext(ctx)
	return report(root.Name(), err, ctx, stderr)
}

func report(name string, err error, ctx context.Context, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var status ExitStatus
	if errors.As(err, &status) {
		return int(status)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "%s: interrupted\n", name)
		return ExitCanceled
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	var h *Hinted
	if errors.As(err, &h) && h.Hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h.Hint)
	}
	var u *Usage
	if errors.As(err, &u) || isCobraUsage(err) {
		fmt.Fprintf(stderr, "hint: run '%s --help' for usage\n", name)
		return ExitUsage
	}
	return ExitError
}

// isCobraUsage recognises Cobra's own argument errors, which it does not type.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
