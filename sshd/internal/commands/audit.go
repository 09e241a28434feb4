package commands

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/assistkit/assist/tickets"
	"github.com/spf13/cobra"
)

func (t *tree) cmdAudit() *cobra.Command {
	var since, request, kind string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit trail (admins, auditors)",
		Long:  "Show the audit trail. --since takes a duration (24h) or an RFC 3339 time.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := tickets.EventFilter{Request: request, Kind: kind, Limit: limit}
			if since != "" {
				t, err := parseSince(since, t.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			if request != "" {
				code, err := tickets.NormalizeCode(request)
				if err != nil {
					return err
				}
				f.Request = code
			}
			events, err := t.Store.Events(f)
			if err = t.skipped(cmd.ErrOrStderr(), err); err != nil {
				return err
			}
			if asJSON {
				if events == nil {
					events = []tickets.Event{}
				}
				return writeJSONList(cmd.OutOrStdout(), events, appendJSON)
			}
			for _, e := range events {
				fmt.Fprintf(cmd.OutOrStdout(), "%6d %s %-18s %-10s %s %s\n", e.Seq, e.Time.Local().Format(time.DateTime), e.Kind, e.Request, e.Actor, formatAttrs(e.Attrs))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only events since this duration ago (24h), time (RFC 3339) or date (2026-11-24)")
	cmd.Flags().StringVar(&request, "request", "", "only events of this request code")
	cmd.Flags().StringVar(&kind, "kind", "", "only events whose kind starts with this (sftp., auth.)")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the last N events")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

// parseSince reads --since: a duration back from now (24h, 90m), an RFC 3339 time, or a date
// (2026-11-24, midnight UTC).
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration counts back from now, so write it without the minus", v)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration like 24h, a time like 2026-11-24T09:00:00Z or a date like 2026-11-24", v)
}

func formatAttrs(attrs map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(attrs) {
		fmt.Fprintf(&b, "%s=%q ", k, attrs[k])
	}
	return strings.TrimSpace(b.String())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
