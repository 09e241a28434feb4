package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
)

func newBackupCommand() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "backup --data DIR FILE",
		Short: "Write a consistent, checked copy of the store to FILE (running gateway or not)",
		Long: `Write a consistent copy of the store to FILE. A running gateway writes it from one read
transaction, through the admin socket in the data directory, while it goes on serving; a
stopped one is copied directly. The copy is checked (pages, records, the audit chain with the
data directory's audit key) before it replaces FILE, so FILE is always a good backup.
The audit key and host key never change: back them up once, beside the first backup.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBackup(cmd.Context(), dataDir(data), args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "data directory")
	cmd.MarkFlagRequired("data")
	return cmd
}

func runBackup(_ context.Context, d dataDir, file string, stdout io.Writer) error {
	key, err := d.auditKey()
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".tmp")
	defer os.Remove(tmp)
	_, live, err := d.liveCopy(tmp)
	if err != nil {
		return err
	}
	if !live {
		if err := d.copyStopped(tmp); err != nil {
			return err
		}
	}
	rep, err := tickets.CheckFile(tmp, key)
	if err != nil {
		return cli.WithHint(fmt.Errorf("the copy cannot be opened: %w", err), "nothing was written to "+file+"; run assistd check --data "+string(d))
	}
	if !rep.OK() {
		return cli.WithHint(fmt.Errorf("the copy has %d problem(s), first: %s", len(rep.Problems), rep.Problems[0]), "nothing was written to "+file+"; run assistd check --data "+string(d))
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(filepath.Dir(file)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s: %d requests (%d open), %d users, %d audit events; checked\n", d.dbPath(), file, rep.Requests, rep.Open, rep.Users, rep.Events)
	return nil
}

// copyStopped copies a stopped gateway's store into path from one read transaction.
func (d dataDir) copyStopped(path string) error {
	s, err := d.open(tickets.BoltOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer s.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if _, err := s.Backup(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
