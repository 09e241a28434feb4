package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/tickets"
)

// WatchLine is one line of "request watch --json": what changed, and the request as it is now.
type WatchLine struct {
	Change string `json:"change"` // the audit event's kind: request.filed, agent.disconnected, …
	RequestView
}

// changeWords names a change for the table-less line.
var changeWords = map[string]string{
	"request.filed": "new", "request.resumed": "online", "agent.disconnected": "offline",
	"request.closed": "closed", "request.withdrawn": "withdrawn", "credential.used": "in session",
	"session.ended": "session ended",
}

func (t *tree) cmdRequestWatch() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Print each new or changed request, a line each, until interrupted",
		Long: "Print a line for each request that is filed, comes online or goes offline, starts or ends a\n" +
			"session, or is closed, as it happens, until interrupted (Ctrl-C). --json prints one JSON\n" +
			"object a line: the change (the audit event's kind) and the request as request show --json.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			changes := t.Gateway.WatchRequests(cmd.Context())
			fmt.Fprintln(cmd.ErrOrStderr(), "watching for new and changed requests (Ctrl-C stops)")
			if err := flush(cmd.ErrOrStderr()); err != nil {
				return nil
			}
			out := cmd.OutOrStdout()
			for ch := range changes {
				r, err := t.Store.Request(ch.Code)
				if err != nil {
					t.Log.Warn("request watch: read changed request", "code", ch.Code, "err", err)
					continue
				}
				line := WatchLine{Change: ch.Kind, RequestView: t.view(r)}
				if asJSON {
					err = json.NewEncoder(out).Encode(line)
				} else {
					err = writeWatchLine(out, line, t.Now())
				}
				if err == nil {
					err = flush(out)
				}
				if err != nil {
					return nil // the technician went away
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object a line")
	return cmd
}

// writeWatchLine writes TIME CHANGE CODE STATE NAME (COMPUTER): the message's first line.
func writeWatchLine(w io.Writer, l WatchLine, now time.Time) error {
	change, ok := changeWords[l.Change]
	if !ok {
		change = strings.TrimPrefix(l.Change, "request.")
	}
	state := l.State
	if l.State != string(tickets.StateClosed) {
		state += ", " + onOff(l.Online)
	}
	msg, _, _ := strings.Cut(l.Message, "\n")
	_, err := fmt.Fprintf(w, "%s  %-13s  %s  %-16s  %s (%s): %s\n", now.Local().Format(time.TimeOnly), change, l.Code, state, l.FullName, l.Computer, clipRunes(msg, 60))
	return err
}

// clipRunes shortens s to n runes.
func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// flush sends what w holds: a command's output is buffered until it ends, a watch's line by line.
func flush(w io.Writer) error {
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
