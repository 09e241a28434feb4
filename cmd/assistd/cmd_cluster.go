package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
)

func newClusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Look at the cluster that several gateways share (--store etcd://…)",
	}
	cmd.AddCommand(newClusterStatusCommand())
	return cmd
}

type clusterStatusOptions struct {
	storeOptions
	data   string
	asJSON bool
}

func newClusterStatusCommand() *cobra.Command {
	var o clusterStatusOptions
	cmd := &cobra.Command{
		Use:   "status --data DIR --store etcd://HOST:PORT,… [--json]",
		Short: "The cluster's live gateways with their agents and sessions, and the health of etcd's members",
		Long: `Show the gateways of the cluster that are alive now (each holds an etcd lease while it runs),
how many agents and one-time sessions each holds, and every etcd member as it answers for
itself: healthy, leader, version, database size. --data is any gateway's data directory (the
audit key opens the store). Exit status 1 when a member does not answer or reports an alarm.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runClusterStatus(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.data, "data", "", "a gateway's data directory")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
	o.addEtcdFlags(cmd)
	cmd.MarkFlagRequired("data")
	cmd.MarkFlagRequired("store")
	return cmd
}

func runClusterStatus(ctx context.Context, o clusterStatusOptions, stdout io.Writer) error {
	if !o.etcd() {
		return cli.WithHint(&cli.Usage{Err: errors.New("cluster status needs --store etcd://…")}, "a gateway on its bbolt file is a cluster of one: assistd check --data DIR")
	}
	d := dataDir(o.data)
	store, err := o.openEtcd(ctx, d, false, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := store.Status(ctx)
	if err != nil {
		return err
	}
	var sick []string
	for _, m := range st.Members {
		if !m.Healthy {
			sick = append(sick, m.Name)
		}
	}
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "store %s\n\n", store.Where())
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GATEWAY\tADDRESS\tAGENTS\tSESSIONS")
		for _, g := range st.Gateways {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", g.Name, dash(g.Address), g.Agents, g.Sessions)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ETCD MEMBER\tENDPOINTS\tHEALTH\tVERSION\tDB SIZE")
		for _, m := range st.Members {
			health := "healthy"
			if !m.Healthy {
				health = "unhealthy: " + strings.Join(m.Errors, "; ")
			}
			if m.Leader {
				health += ", leader"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, strings.Join(m.Endpoints, ","), health, dash(m.Version), size(m.DBSize))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(sick) > 0 {
		return cli.WithHint(fmt.Errorf("etcd member(s) %s not healthy", strings.Join(sick, ", ")),
			"the gateways go on while a majority of the members answers; see etcdctl endpoint status --cluster")
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// size writes a byte count the way a person reads it.
func size(n int64) string {
	switch {
	case n == 0:
		return "-"
	case n < 1<<20:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
