package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
)

func newRestoreCommand() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "restore --data DIR FILE",
		Short: "Replace a stopped gateway's store with the backup FILE, after checking it",
		Long: `Replace the data directory's store with FILE, a copy made by assistd backup. FILE is checked
first — pages, records, and the audit chain with this data directory's audit key, which also
proves it is this gateway's backup — and the gateway must be stopped. The file it replaces is
kept beside it as assist.db.replaced-TIME.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd.Context(), dataDir(data), args[0], time.Now(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "data directory")
	cmd.MarkFlagRequired("data")
	return cmd
}

func runRestore(_ context.Context, d dataDir, file string, now time.Time, stdout io.Writer) error {
	key, err := d.auditKey()
	if err != nil {
		return err
	}
	rep, err := tickets.CheckFile(file, key)
	if err != nil {
		return cli.WithHint(fmt.Errorf("backup %s: %w", file, err), "nothing was changed; choose another backup")
	}
	if !rep.OK() {
		return cli.WithHint(fmt.Errorf("backup %s has %d problem(s), first: %s", file, len(rep.Problems), rep.Problems[0]),
			"nothing was changed; choose another backup (a chain that fails with this directory's audit key is another gateway's backup)")
	}
	if stream, err := requestBackup(d.socketPath()); !errors.Is(err, errNoGateway) {
		if err == nil {
			stream.Close()
		}
		return cli.WithHint(errors.New("the gateway is running on this data directory"), "stop it first (systemctl stop assistd); nothing was changed")
	}
	unlock, err := lockIfPresent(d.dbPath())
	if err != nil {
		return err
	}
	defer unlock()
	in, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	tmp := d.dbPath() + ".restoring"
	defer os.Remove(tmp)
	if err := writeFileSynced(tmp, in); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	kept := ""
	if _, err := os.Stat(d.dbPath()); err == nil {
		kept = d.dbPath() + ".replaced-" + now.UTC().Format("20060102T150405Z")
		if err := os.Rename(d.dbPath(), kept); err != nil {
			return fmt.Errorf("restore: keep the current store: %w", err)
		}
	}
	if err := os.Rename(tmp, d.dbPath()); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := syncDir(string(d)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: %d requests (%d open), %d users, %d audit events\n", file, d.dbPath(), rep.Requests, rep.Open, rep.Users, rep.Events)
	if kept != "" {
		fmt.Fprintf(stdout, "the file it replaced is kept as %s\n", kept)
	}
	return nil
}

// lockIfPresent takes the lock bbolt takes on path, so that no gateway starts on the file while
// it is replaced, and refuses when a gateway holds it. A missing file needs no lock.
func lockIfPresent(path string) (func(), error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := flockExclusive(f); err != nil {
		f.Close()
		return nil, cli.WithHint(fmt.Errorf("store %s is locked by a running process", filepath.Base(path)), "stop the gateway first; nothing was changed")
	}
	return func() { f.Close() }, nil
}
