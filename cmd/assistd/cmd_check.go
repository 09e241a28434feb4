package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/tickets"
)

func newCheckCommand() *cobra.Command {
	var data string
	var store storeOptions
	cmd := &cobra.Command{
		Use:   "check --data DIR [--store etcd://…]",
		Short: "Check the store: pages, records, indexes and the audit chain (running gateway or not)",
		Long: `Check the data directory's store: bbolt's page check, every record read back, every index
entry matched with its record, and the audit trail's hash chain.
While the gateway runs, its file is locked: check then asks the gateway, on the admin socket in
the data directory, for a consistent copy and checks that copy.
With --store, check the cluster's store instead, at one etcd revision while gateways run (etcd
checks its own pages), with the audit key of the data directory --data and the recordings in
it of the gateway --gateway-name (a recording's file is on the gateway that held its session).
Exit status 1 when anything is wrong, with each problem and where it is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if store.etcd() {
				return runCheckCluster(cmd.Context(), store, dataDir(data), cmd.OutOrStdout())
			}
			return runCheck(cmd.Context(), dataDir(data), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "data directory")
	store.AddFlags(cmd)
	cmd.MarkFlagRequired("data")
	return cmd
}

func runCheck(_ context.Context, d dataDir, stdout io.Writer) error {
	key, err := d.auditKey()
	if err != nil {
		return err
	}
	if !d.initialised() {
		return d.notInitialised(os.ErrNotExist)
	}
	copyPath, live, err := d.liveCopy(filepath.Join(string(d), ".check.db"))
	if err != nil {
		return err
	}
	path, how := d.dbPath(), "stopped gateway"
	if live {
		defer os.Remove(copyPath)
		path, how = copyPath, "running gateway, checked on a consistent copy"
	}
	rep, err := tickets.CheckFile(path, key)
	if err != nil {
		return d.storeHint(err)
	}
	store, err := tickets.OpenBolt(path, tickets.BoltOptions{AuditKey: key, ReadOnly: true})
	if err != nil {
		return err
	}
	defer store.Close()
	return report(stdout, fmt.Sprintf("%s (%s)", d.dbPath(), how), "pages, records", rep, allRecordings{store}, d.recordingsDir(),
		"stop the gateway, keep the file for investigation and restore the last good backup: assistd restore --data "+string(d)+" BACKUP.db")
}

// runCheckCluster checks the cluster's store that --store names while its gateways run, with
// the recordings of this gateway's data directory.
func runCheckCluster(ctx context.Context, o storeOptions, d dataDir, stdout io.Writer) error {
	store, err := o.openEtcd(ctx, d, false, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := store.Check()
	if err != nil {
		return err
	}
	return report(stdout, store.Where()+" (at one revision)", "records", rep, gatewayRecordings{store, o.gateway}, d.recordingsDir(),
		"keep the cluster as it is for investigation (etcdctl snapshot save) and restore its last good snapshot (etcdctl snapshot restore)")
}

// report prints what a check found, and the recordings of dir read again against store's
// audit trail; what names what was read. An error with hint when anything is wrong.
func report(stdout io.Writer, where, what string, rep tickets.CheckReport, recs recordingChecker, dir, hint string) error {
	fmt.Fprintf(stdout, "%s: schema %d, %d requests (%d open), %d users, %d credentials, %d audit events\n",
		where, rep.Schema, rep.Requests, rep.Open, rep.Users, rep.Credentials, rep.Events)
	problems := rep.Problems
	if summary, recProblems, err := recs.check(dir); err != nil {
		problems = append(problems, tickets.Problem{Where: "recordings", What: err.Error()})
	} else {
		fmt.Fprintln(stdout, summary)
		for _, p := range recProblems {
			problems = append(problems, tickets.Problem{Where: "recordings", What: p})
		}
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	if len(problems) > 0 {
		return cli.WithHint(fmt.Errorf("%d problem(s)", len(problems)), hint)
	}
	fmt.Fprintf(stdout, "ok: %s, indexes, the audit chain and the recordings are intact\n", what)
	return nil
}

// liveCopy streams a running gateway's store into path. It reports live false, with nothing
// written, when no gateway answers on the data directory's admin socket.
func (d dataDir) liveCopy(path string) (string, bool, error) {
	stream, err := requestBackup(d.socketPath())
	if errors.Is(err, errNoGateway) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer stream.Close()
	if err := writeFileSynced(path, stream); err != nil {
		os.Remove(path)
		return "", false, fmt.Errorf("copy the running gateway's store: %w", err)
	}
	return path, true, nil
}

// writeFileSynced writes r to a new file at path (replacing a stale one) and syncs it.
func writeFileSynced(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// recordingChecker reads the recordings in a directory again against the audit trail.
type recordingChecker interface {
	check(dir string) (summary string, problems []string, err error)
}

// allRecordings are every recording of a gateway's own store.
type allRecordings struct{ store tickets.Store }

func (a allRecordings) check(dir string) (string, []string, error) {
	n, problems, err := sshd.CheckRecordings(a.store, dir)
	return fmt.Sprintf("%d recordings read again and compared with the audit trail (%s)", n, dir), problems, err
}

// gatewayRecordings are the recordings of one gateway of a cluster, whose store's trail names
// every gateway's: a recording's file is on the gateway that held its session (the gateway
// its credential.used event names), so one held elsewhere is not missing here.
type gatewayRecordings struct {
	store   tickets.Store
	gateway string
}

func (g gatewayRecordings) check(dir string) (string, []string, error) {
	used, err := g.store.Events(tickets.EventFilter{Kind: "credential.used"})
	if err != nil {
		return "", nil, err
	}
	where := map[string]string{} // credential ID, which names its recording → gateway
	for _, e := range used {
		where[e.Attrs["credential"]] = e.Attrs["gateway"]
	}
	list, err := sshd.ListRecordings(g.store, dir, "", nil)
	if err != nil {
		return "", nil, err
	}
	n, elsewhere := 0, 0
	var problems []string
	for _, v := range list {
		switch {
		case v.Status == "deleted" || v.Status == "pruned":
			continue
		case where[v.ID] != g.gateway && strings.HasPrefix(v.Status, "MISSING"):
			elsewhere++
			continue
		}
		n++
		if v.Status != "ok" {
			problems = append(problems, fmt.Sprintf("recording %s (request %s): %s", v.ID, v.Request, v.Status))
		}
	}
	summary := fmt.Sprintf("%d recordings read again and compared with the audit trail (%s)", n, dir)
	if elsewhere > 0 {
		summary += fmt.Sprintf("; %d not here, held by other gateways of the cluster (check them there, with --gateway-name)", elsewhere)
	}
	return summary, problems, nil
}
