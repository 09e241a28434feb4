// Command workload changes an X display's screen for the screen-sharing benchmarks and records
// when the X server has each change; see package workload for the modes, the JSON lines it
// writes and the marker pixel that identifies each change.
//
//	workload -display :5 -mode typing -duration 30s -out typing.jsonl
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"github.com/assistkit/assist/internal/harness/workload"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "workload: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("workload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts workload.Options
	var mode, out string
	modes := make([]string, len(workload.Modes))
	for i, m := range workload.Modes {
		modes[i] = string(m)
	}
	fs.StringVar(&opts.Display, "display", os.Getenv("DISPLAY"), "X display to draw on")
	fs.StringVar(&mode, "mode", string(workload.Typing), "what to draw: "+strings.Join(modes, ", "))
	fs.DurationVar(&opts.Duration, "duration", 0, "how long to run (0: until interrupted)")
	fs.StringVar(&out, "out", "-", "file for the JSON lines, - for standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts.Mode = workload.Mode(mode)
	opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	opts.Out = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Out = f
	}
	return workload.Run(ctx, opts)
}
