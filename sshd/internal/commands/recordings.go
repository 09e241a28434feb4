package commands

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/tickets"
)

// Recordings is what the recording commands need of the gateway.
type Recordings interface {
	// List lists the recordings (of one request when code is not empty), newest first, each
	// checked against the hash the audit trail sealed it with.
	List(code string) ([]RecordingView, error)
	// Open opens a recording's file.
	Open(id string) (io.ReadCloser, int64, error)
	// Delete removes a recording, with an audit event naming who.
	Delete(id, by string) error
}

// RecordingView is one recording as "recording list --json" prints it. Status is "ok",
// "recording" (its session goes on), "deleted", "pruned", or what is wrong in capitals
// (TAMPERED, DAMAGED, MISSING) and words.
type RecordingView struct {
	ID         string    `json:"id"`
	Request    string    `json:"request"`
	Technician string    `json:"technician"`
	Started    time.Time `json:"started"`
	Duration   string    `json:"duration,omitempty"`
	Bytes      int64     `json:"bytes"`
	Hash       string    `json:"hash,omitempty"`
	Status     string    `json:"status"`
	Note       string    `json:"note,omitempty"`
}

func (t *tree) cmdRecording() *cobra.Command {
	cmd := &cobra.Command{Use: "recording", Short: "List, fetch and delete session recordings (admins)"}
	cmd.AddCommand(t.cmdRecordingList(), t.cmdRecordingGet(), t.cmdRecordingDelete())
	return cmd
}

func (t *tree) recordings(what string, a tickets.Action) error {
	if err := t.may(what, a); err != nil {
		return err
	}
	if t.Recordings == nil {
		return fmt.Errorf("%s: this gateway does not record sessions (assistd serve --record)", what)
	}
	return nil
}

func (t *tree) cmdRecordingList() *cobra.Command {
	var request string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List recordings, each checked against the audit trail",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := t.recordings("recording list", tickets.ReadRecordings); err != nil {
				return err
			}
			if request != "" {
				code, err := tickets.NormalizeCode(request)
				if err != nil {
					return err
				}
				request = code
			}
			list, err := t.Recordings.List(request)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []RecordingView{}
				}
				return writeJSONList(cmd.OutOrStdout(), list, appendJSON)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tREQUEST\tTECHNICIAN\tSTARTED\tDURATION\tBYTES\tSTATUS")
			for _, v := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", v.ID, v.Request, v.Technician, v.Started.Local().Format("2006-01-02 15:04"), v.Duration, v.Bytes, v.Status)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&request, "request", "", "only the recordings of this request code")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func (t *tree) cmdRecordingGet() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Write a recording's file to standard output (assist recording play and export use it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := t.recordings("recording get", tickets.ReadRecordings); err != nil {
				return err
			}
			f, _, err := t.Recordings.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			t.Log.Info("recording fetched", "recording", args[0])
			t.Gateway.Audit(tickets.Event{Kind: "recording.read", Actor: t.c.Name, Attrs: map[string]string{"credential": args[0]}})
			_, err = io.Copy(cmd.OutOrStdout(), f)
			return err
		},
	}
}

func (t *tree) cmdRecordingDelete() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a recording (audited)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := t.recordings("recording delete", tickets.DeleteRecordings); err != nil {
				return err
			}
			if err := t.Recordings.Delete(args[0], t.c.Name); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted recording %s\n", args[0])
			return nil
		},
	}
}
