package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/viewer"
)

type cpOptions struct {
	recursive bool
	otc       string
	json      bool
	quiet     bool
}

func (o *cpOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "copy directories and everything in them")
	f.StringVar(&o.otc, "otc", "", "one-time file (or request code) for remote paths written as :PATH")
	f.BoolVar(&o.json, "json", false, "print a JSON summary on standard output instead of a progress bar")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar")
}

func newCpCommand(g *globalOptions) *cobra.Command {
	var o cpOptions
	cmd := &cobra.Command{
		Use:   "cp [-r] SRC... DST",
		Short: "Copy files to or from the person's computer, like scp",
		Long: `Copy files between your computer and the person's, through the gateway, with a one-time file.
A remote path is the .otc file's name, a colon and the path on the person's computer; a relative
path starts in their home directory. With --otc FILE, a remote path is just a colon and the path.

  assist cp K7QH-4ZPD.otc:/etc/hosts .
  assist cp -r ./tools K7QH-4ZPD.otc:/tmp/
  assist cp --otc K7QH-4ZPD.otc :/var/log/syslog :notes.txt ./logs/

Files keep their permission bits and modification time. With several sources the destination
must be a directory. A progress bar shows on a terminal; --json prints a summary for scripts.
The person must have allowed files; writing needs more than read-only file access.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			tty := !o.json && !o.quiet && isTerminal(os.Stdout)
			return runCp(cmd.Context(), g, o, args, cmd.OutOrStdout(), cmd.ErrOrStderr(), tty)
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// location is one operand: a local path, or a path on the person's computer reached with an
// .otc file.
type location struct {
	otc    string // the .otc file (or request code) for a remote path; "" for a local one
	path   string
	remote bool
}

// parseLocation reads "FILE.otc:PATH" as remote, and ":PATH" too when --otc is given; anything
// else is local. The .otc name is found by its suffix, so "C:\x.otc:/etc" works on Windows.
func parseLocation(arg, otcFlag string) location {
	if otcFlag != "" && strings.HasPrefix(arg, ":") {
		return location{otc: otcFlag, path: arg[1:], remote: true}
	}
	if i := indexASCIIFold(arg, ".otc:"); i > 0 {
		return location{otc: arg[:i+4], path: arg[i+5:], remote: true}
	}
	return location{path: arg}
}

// indexASCIIFold is strings.Index with ASCII letters matched in either case. It searches arg
// itself, not a case-folded copy: strings.ToLower changes the length of text that is not valid
// UTF-8 (or holds letters such as 'İ'), so an index found in the copy would cut the original at
// the wrong place. sub must be ASCII.
func indexASCIIFold(arg, sub string) int {
	for i := 0; i+len(sub) <= len(arg); i++ {
		if equalASCIIFold(arg[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func equalASCIIFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// cpPlan is what the operands ask for: one direction, one .otc file.
type cpPlan struct {
	otc      string
	srcs     []string
	dst      string
	download bool
}

func planCp(args []string, otcFlag string) (cpPlan, error) {
	locs := make([]location, len(args))
	for i, a := range args {
		locs[i] = parseLocation(a, otcFlag)
	}
	srcs, dst := locs[:len(locs)-1], locs[len(locs)-1]
	p := cpPlan{dst: dst.path, download: !dst.remote}
	for _, s := range srcs {
		if s.remote == dst.remote {
			if dst.remote {
				return p, &cli.Usage{Err: errors.New("both sides are remote: copy between your computer and the person's")}
			}
			return p, &cli.Usage{Err: fmt.Errorf("no remote path: name one as FILE.otc:PATH (or :PATH with --otc FILE), e.g. K7QH-4ZPD.otc:/etc/hosts")}
		}
		p.srcs = append(p.srcs, s.path)
	}
	for _, l := range locs {
		if !l.remote {
			continue
		}
		if p.otc != "" && filepath.Clean(p.otc) != filepath.Clean(l.otc) {
			return p, &cli.Usage{Err: fmt.Errorf("remote paths name two one-time files (%s and %s): one copy uses one session", p.otc, l.otc)}
		}
		p.otc = l.otc
	}
	return p, nil
}

// cpSummary is the --json output.
type cpSummary struct {
	Direction string  `json:"direction"` // "download" or "upload"
	Files     int     `json:"files"`
	Dirs      int     `json:"dirs"`
	Bytes     int64   `json:"bytes"`
	Seconds   float64 `json:"seconds"`
	Error     string  `json:"error,omitempty"`
}

func runCp(ctx context.Context, g *globalOptions, o cpOptions, args []string, stdout, stderr io.Writer, tty bool) error {
	plan, err := planCp(args, o.otc)
	if err != nil {
		return err
	}
	otc, err := loadOTC(ctx, g, plan.otc)
	if err != nil {
		return err
	}
	s, err := viewer.DialOTC(ctx, otc)
	if err != nil {
		return err
	}
	defer s.Close()
	files, err := s.Files()
	if err != nil {
		return cli.WithHint(err, "the person chooses what you may do when the session starts; ask them to allow files")
	}
	defer files.Close()

	copts := viewer.CopyOptions{Recursive: o.recursive, Skipped: func(p, reason string) {
		fmt.Fprintf(stderr, "assist: skipped %s: %s\n", p, reason)
	}}
	var bar *progressBar
	if tty {
		bar = newProgressBar(stdout, terminalWidth(os.Stdout), time.Now)
		copts.Progress = bar.Update
	}
	start := time.Now()
	var stats viewer.CopyStats
	if plan.download {
		stats, err = files.Get(ctx, plan.srcs, plan.dst, copts)
	} else {
		stats, err = files.Put(ctx, plan.srcs, plan.dst, copts)
	}
	elapsed := time.Since(start)
	if bar != nil {
		bar.Done(stats, elapsed, err == nil)
	}
	if o.json {
		sum := cpSummary{Direction: map[bool]string{true: "download", false: "upload"}[plan.download],
			Files: stats.Files, Dirs: stats.Dirs, Bytes: stats.Bytes, Seconds: elapsed.Seconds()}
		if err != nil {
			sum.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(sum); jerr != nil && err == nil {
			err = jerr
		}
	}
	return cpHint(err, s)
}

// cpHint adds what the technician can do about a failed copy.
func cpHint(err error, s *viewer.Session) error {
	if err == nil {
		return nil
	}
	if r := s.EndReason(); r != "" && errors.Is(err, viewer.ErrConnectionLost) {
		return fmt.Errorf("%w (session ended: %s)", err, r)
	}
	var fe *viewer.FileError
	switch {
	case errors.As(err, &fe) && fe.Side == viewer.Remote && errors.Is(err, fs.ErrPermission):
		return cli.WithHint(err, "the person's account must be able to reach that path, and writing needs their consent to files (not files-ro)")
	case errors.Is(err, viewer.ErrDiskFull):
		return cli.WithHint(err, "free some space on that disk, or copy somewhere else")
	}
	return err
}

func terminalWidth(f *os.File) func() int {
	return func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil || w <= 0 {
			return 80
		}
		return w
	}
}
