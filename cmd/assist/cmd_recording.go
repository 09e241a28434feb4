package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/viewer"
)

// newRecordingCommand is "assist recording": list and delete run on the gateway; play and
// export fetch the file over the gateway's SSH (recording get, admins only) and run here.
func newRecordingCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "recording", Short: "List, play, export and delete session recordings (admins)"}
	pass := func(name, short string) *cobra.Command {
		c := newRemoteCommand(g, "recording", short)
		c.Use = name + " …"
		run := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error { return run(cmd, append([]string{name}, args...)) }
		return c
	}
	cmd.AddCommand(
		pass("list", "List recordings, flagging any whose file does not match the audit trail: --request CODE, --json"),
		pass("delete", "Delete a recording (audited)"),
		newRecordingPlayCommand(g), newRecordingExportCommand(g),
	)
	return cmd
}

func newRecordingPlayCommand(g *globalOptions) *cobra.Command {
	var noBrowser bool
	var request string
	cmd := &cobra.Command{
		Use:   "play ID | --request CODE",
		Short: "Play a recording in the browser viewer (play, pause, speed, a timeline with markers to seek), or list a request's to play",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && request == "" {
				return runRecordingPlay(cmd.Context(), g, args[0], noBrowser, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			if len(args) == 0 && request != "" {
				return runRecordingList(cmd.Context(), g, request, noBrowser, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			return cli.WithHint(errors.New("recording play: name a recording or a request, not both or neither"),
				"assist recording play ID, or assist recording play --request CODE for a page that lists them")
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the page's address instead of opening a browser")
	cmd.Flags().StringVar(&request, "request", "", "open a page listing this request's recordings, each with a Play link")
	return cmd
}

func newRecordingExportCommand(g *globalOptions) *cobra.Command {
	var out string
	var fps int
	cmd := &cobra.Command{
		Use:   "export ID -o FILE.mp4",
		Short: "Export a recording as a video through ffmpeg",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecordingExport(cmd.Context(), g, args[0], out, fps, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the video file to write (.mp4, .mkv, .webm)")
	cmd.Flags().IntVar(&fps, "fps", 10, "frames a second")
	cmd.MarkFlagRequired("output")
	return cmd
}

// fetchRecording copies recording id from the gateway into a file of its own in a new
// temporary directory, and returns the file and a function that removes it.
func fetchRecording(ctx context.Context, g *globalOptions, id string, stderr io.Writer) (string, func(), error) {
	dir, err := os.MkdirTemp("", "assist-recording-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	path := filepath.Join(dir, "session.rec")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	err = runRemote(ctx, g, []string{"recording", "get", id}, nil, f, stderr)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return path, cleanup, nil
}

func openFetched(ctx context.Context, g *globalOptions, id string, stderr io.Writer) (*viewer.Player, func(), error) {
	path, cleanup, err := fetchRecording(ctx, g, id, stderr)
	if err != nil {
		return nil, nil, err
	}
	p, err := viewer.OpenPlayer(path)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if d := p.Damage(); d != nil {
		fmt.Fprintf(stderr, "assist: %v; it plays up to there\n", d)
	}
	return p, func() { p.Close(); cleanup() }, nil
}

func runRecordingPlay(ctx context.Context, g *globalOptions, id string, noBrowser bool, stdout, stderr io.Writer) error {
	p, done, err := openFetched(ctx, g, id, stderr)
	if err != nil {
		return err
	}
	defer done()
	w, err := viewer.NewPlaybackWeb(p, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	return servePage(w.URL(), noBrowser, stdout, func() error { return w.Serve(ctx) })
}

// runRecordingList opens the page of request's recordings, as the gateway's recording list has
// them; a recording is fetched from the gateway when its Play link is first followed.
func runRecordingList(ctx context.Context, g *globalOptions, request string, noBrowser bool, stdout, stderr io.Writer) error {
	var out bytes.Buffer
	if err := runRemote(ctx, g, []string{"recording", "list", "--request", request, "--json"}, nil, &out, stderr); err != nil {
		return err
	}
	var list []viewer.RecordingInfo
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		return fmt.Errorf("recording list: the gateway's answer: %w", err)
	}
	open := func(id string) (*viewer.Player, func(), error) { return openFetched(ctx, g, id, stderr) }
	w, err := viewer.NewRecordingsWeb("request "+request, list, open, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	return servePage(w.URL(), noBrowser, stdout, func() error { return w.Serve(ctx) })
}

// servePage opens url in a browser (or prints it) and serves the page until Ctrl-C.
func servePage(url string, noBrowser bool, stdout io.Writer, serve func() error) error {
	if noBrowser || openBrowser(url) != nil {
		fmt.Fprintf(stdout, "Open this address in your browser (it holds a secret; do not share it):\n  %s\n", url)
	}
	fmt.Fprintln(stdout, "Press Ctrl-C here to stop.")
	return serve()
}

func runRecordingExport(ctx context.Context, g *globalOptions, id, out string, fps int, stdout, stderr io.Writer) error {
	p, done, err := openFetched(ctx, g, id, stderr)
	if err != nil {
		return err
	}
	defer done()
	if err := viewer.Export(ctx, p, out, fps, stderr); err != nil {
		if errors.Is(err, viewer.ErrNoFFmpeg) {
			return cli.WithHint(err, "install it (Debian: sudo apt install ffmpeg) and run assist recording export again")
		}
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", out, p.Duration().Round(1e9))
	return nil
}
