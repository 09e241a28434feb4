package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
)

func newAuditCommand() *cobra.Command {
	audit := &cobra.Command{Use: "audit", Short: "Check the audit trail"}
	var data string
	verify := &cobra.Command{
		Use:   "verify --data DIR",
		Short: "Check that no audit event was edited, removed or inserted",
		Long: `Walk the audit trail's hash chain. Each event carries an HMAC of the one before, keyed
with the audit key in the data directory, so an edit, a removal or an insertion in the
database file breaks the chain at that event. Run it while assistd is stopped, or on a copy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := dataDir(data).openStore()
			if err != nil {
				return err
			}
			defer store.Close()
			events, err := store.Events(tickets.EventFilter{})
			verr := store.VerifyEvents()
			var te *tickets.TamperError
			if errors.As(verr, &te) {
				return cli.WithHint(verr, "the database file was changed outside assistd; keep a copy for investigation")
			}
			if verr != nil {
				return verr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit trail intact: %d events\n", len(events))
			return nil
		},
	}
	verify.Flags().StringVar(&data, "data", "", "data directory")
	verify.MarkFlagRequired("data")
	audit.AddCommand(verify)
	return audit
}
