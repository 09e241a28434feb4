package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

type connectOptions struct {
	snapshot  string
	headless  bool
	trace     string
	monitor   int
	inFlight  int
	quality   string
	noBrowser bool
}

func (o *connectOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.snapshot, "snapshot", "", "save one full frame as PNG and exit")
	f.BoolVar(&o.headless, "headless", false, "pull screen updates without showing them (with --trace)")
	f.StringVar(&o.trace, "trace", "", "with --headless: write one JSON line per update to this file (- for stdout)")
	f.IntVar(&o.monitor, "monitor", -1, "monitor to show, counting from 0 (default: all)")
	f.IntVar(&o.inFlight, "in-flight", 2, "screen update requests kept outstanding")
	f.StringVar(&o.quality, "quality", "auto", "the viewer page's screen quality at start: auto (pictures and video lossy on a slow link), sharp (every pixel exact) or fast")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the viewer's URL instead of opening a browser")
}

func newConnectCommand(g *globalOptions) *cobra.Command {
	var o connectOptions
	cmd := &cobra.Command{
		Use:   "connect FILE.otc | CODE",
		Short: "Open a person's desktop with a one-time connection file (or a request code)",
		Long: `Open the person's desktop. Give the .otc file the help desk screen downloaded, or a request code:
then assist asks the gateway for a one-time file with your own login first.

The person is asked before anything is shown; they choose view only, control, or control and files,
and can end the session at any time.

  assist connect K7QH-4ZPD.otc
  assist connect K7QH-4ZPD --snapshot screen.png
  assist connect K7QH-4ZPD.otc --headless --trace updates.jsonl   # why is it slow?`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConnect(cmd.Context(), g, args[0], o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// loadOTC reads an .otc file, or asks the gateway for one when arg is a request code.
func loadOTC(ctx context.Context, g *globalOptions, arg string) (*tickets.OTC, error) {
	data, err := os.ReadFile(arg)
	if errors.Is(err, fs.ErrNotExist) {
		if code, cerr := tickets.NormalizeCode(arg); cerr == nil {
			o, _, err := fetchOTC(ctx, g, code, tickets.DefaultTTL)
			return o, err
		}
		return nil, cli.WithHint(fmt.Errorf("%s: no such file", arg), "give the .otc file the help desk downloaded, or a request code like K7QH-4ZPD")
	}
	if err != nil {
		return nil, err
	}
	o, err := tickets.ParseOTC(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	if o.Expired(time.Now()) {
		// The gateway would only say "permission denied", and OpenSSH's clients no more.
		return nil, cli.WithHint(fmt.Errorf("%s: the one-time file for %s expired at %s", arg, o.Request, o.Expires.Local().Format(time.DateTime)),
			fmt.Sprintf("get a new one: assist otc %s (or Open Connection on the help desk's screen)", o.Request))
	}
	return o, nil
}

func runConnect(ctx context.Context, g *globalOptions, arg string, o connectOptions, stdout io.Writer) error {
	if _, err := rdp.ParseQuality(o.quality); err != nil {
		return &cli.Usage{Err: fmt.Errorf("--quality: %w", err)}
	}
	otc, err := loadOTC(ctx, g, arg)
	if err != nil {
		return err
	}
	s, err := viewer.DialOTC(ctx, otc)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case o.snapshot != "":
		if err := viewer.Snapshot(ctx, s, o.monitor, o.snapshot); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "saved %s\n", o.snapshot)
		return nil
	case o.headless:
		return runTrace(ctx, s, o)
	case o.trace != "":
		return &cli.Usage{Err: errors.New("--trace goes with --headless")}
	}
	return runBrowserViewer(ctx, s, o, stdout)
}

func runTrace(ctx context.Context, s *viewer.Session, o connectOptions) error {
	out := io.Discard
	if o.trace == "-" {
		out = os.Stdout
	} else if o.trace != "" {
		f, err := os.Create(o.trace)
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		out = bw
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-s.Ended()
		cancel()
	}()
	err := viewer.Trace(ctx, s, o.monitor, o.inFlight, out)
	if reason := s.EndReason(); reason != "" && err == nil {
		fmt.Fprintf(os.Stderr, "assist: session ended: %s\n", reason)
	}
	return err
}

// runBrowserViewer serves the viewer page on 127.0.0.1 and opens it in the browser (or prints
// its address), until the session ends or Ctrl-C.
func runBrowserViewer(ctx context.Context, s *viewer.Session, o connectOptions, stdout io.Writer) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	q, _ := rdp.ParseQuality(o.quality) // checked in runConnect
	w, err := viewer.NewWeb(s, viewer.WebOptions{Logger: log, InFlight: o.inFlight, Monitor: o.monitor, Quality: q})
	if err != nil {
		return err
	}
	switch {
	case o.noBrowser:
		fmt.Fprintf(stdout, "Open this address in your browser; it holds the session's secret, do not share it:\n  %s\n", w.URL())
	default:
		if err := openBrowser(w.URL()); err != nil {
			fmt.Fprintf(stdout, "Could not open a browser (%v); open this address yourself:\n  %s\n", err, w.URL())
			break
		}
		fmt.Fprintf(stdout, "The viewer is opening in your browser. If it does not, open this address (it holds the session's secret; do not share it):\n  %s\n", w.URL())
	}
	fmt.Fprintln(stdout, "Press Ctrl-C here (or End session on the page) to end the session.")
	err = w.Serve(ctx)
	if reason := s.EndReason(); reason != "" {
		fmt.Fprintf(stdout, "Session ended: %s\n", reason)
	}
	return err
}
