package commands

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/tickets"
)

// A request a technician claimed is theirs: only they (or an admin) mint its .otc, and the
// first .otc minted for an unclaimed request claims it. claim, assign and release hand it
// over; note keeps a line about it with the request. The store decides (tickets.HandOver),
// in one transaction, so of two technicians claiming at once one wins and the other reads the
// owner's name.

func (t *tree) cmdRequestClaim() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "claim CODE",
		Short: "Make a request yours: then only you (or an admin) open its connection",
		Long: "Make a request yours, so that the list shows you as its owner and only you (or an admin)\n" +
			"mint its one-time connection file. The first .otc you mint for an unclaimed request\n" +
			"claims it too. A request another technician owns is refused, naming them; they (or an\n" +
			"admin) hand it over with request assign.",
		Example: "  request claim K7QH-4ZPD",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return t.handOver(cmd.OutOrStdout(), asJSON, tickets.Handover{CodeOrID: args[0], By: t.c.Name, To: t.c.Name})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the request as request show --json")
	return cmd
}

func (t *tree) cmdRequestAssign() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "assign CODE USER",
		Short: "Hand a request over to another technician (its owner, or an admin)",
		Long: "Hand a request over to another technician or admin: USER becomes its owner and the one\n" +
			"who may open its connection. Its owner (or anyone, while nobody owns it) or an admin may.",
		Example: "  request assign K7QH-4ZPD bob",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return t.handOver(cmd.OutOrStdout(), asJSON, tickets.Handover{CodeOrID: args[0], By: t.c.Name, To: args[1]})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the request as request show --json")
	return cmd
}

func (t *tree) cmdRequestRelease() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "release CODE",
		Short:   "Let a request go back to the queue, owned by nobody (its owner, or an admin)",
		Example: "  request release K7QH-4ZPD",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return t.handOver(cmd.OutOrStdout(), asJSON, tickets.Handover{CodeOrID: args[0], By: t.c.Name})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the request as request show --json")
	return cmd
}

// handOver claims, assigns or releases a request and says what it did.
func (t *tree) handOver(out io.Writer, asJSON bool, h tickets.Handover) error {
	handed, err := t.Gateway.HandOver(h)
	if err != nil {
		return t.friendly(err)
	}
	r := handed.Request
	if asJSON {
		return writeJSON(out, t.detail(r))
	}
	switch {
	case len(handed.Events) == 0: // already so (a release of nobody's request is ErrNotClaimed)
		fmt.Fprintf(out, "%s (%s) is %s's already\n", r.Code, r.FullName, r.Owner)
	case h.To == "":
		fmt.Fprintf(out, "released %s (%s): owned by nobody\n", r.Code, r.FullName)
	case h.To == h.By:
		fmt.Fprintf(out, "claimed %s (%s)\n", r.Code, r.FullName)
	default:
		fmt.Fprintf(out, "assigned %s (%s) to %s\n", r.Code, r.FullName, r.Owner)
	}
	return nil
}

func (t *tree) cmdRequestNote() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "note CODE TEXT… | CODE -",
		Short: "Add a note to a request: kept with it, timestamped, by you; request show lists them",
		Long: fmt.Sprintf("Add a note to a request, open or closed: request show lists its notes with the time and\n"+
			"who wrote them. The words after the code are the note (quote them or not); - reads it from\n"+
			"standard input instead. At most %d bytes a note and %d notes a request; control characters\n"+
			"and terminal escapes are dropped.", tickets.MaxNoteLen, tickets.MaxNotes),
		Example: "  request note K7QH-4ZPD \"called, printer was unplugged\"\n  echo 'long story' | request note K7QH-4ZPD -",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			text := strings.Join(args[1:], " ")
			if text == "-" {
				var err error
				if text, err = readNote(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			noted, err := t.Gateway.AddNote(tickets.Noting{CodeOrID: args[0], By: t.c.Name, Text: text})
			if err != nil {
				return t.friendly(err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), noted.Note)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "noted on %s (%s) at %s, %d bytes; request show %s lists its notes\n", noted.Request.Code,
				noted.Request.FullName, noted.Note.Time.Local().Format("2006-01-02 15:04:05"), len(noted.Note.Text), noted.Request.Code)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the note as a JSON object: time, by, text")
	return cmd
}

// readNote reads a note from standard input, refusing one far past the bound before the store
// measures the cleaned text.
func readNote(r io.Reader) (string, error) {
	limit := int64(4 * tickets.MaxNoteLen)
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return "", fmt.Errorf("read the note from standard input: %w", err)
	}
	if int64(len(data)) > limit {
		return "", errors.New("note: too long for a note on standard input")
	}
	return string(data), nil
}
