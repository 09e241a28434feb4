// Command assist-agent is run by the person who needs help: it files an assistance request with
// the help desk's gateway, prints the code to read to the technician, asks before anyone connects,
// and serves the screen, keyboard, mouse and files only as far as the person allowed.
package main

import (
	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
)

var version = "dev"

func main() {
	attachConsole()
	cli.ThroughputGC()
	cli.Main(newRootCommand())
}

func newRootCommand() *cobra.Command {
	var o requestOptions
	root := &cobra.Command{
		Use:     "assist-agent [request flags]",
		Short:   "Ask the help desk for remote assistance",
		Version: version,
		Long: `assist-agent asks your help desk for remote assistance.

  assist-agent request --gateway help.example.org:2222 --gateway-key 'ssh-ed25519 AAAA…'

It asks for your name, email, phone and a message, prints a code to read to the technician
and waits. When a technician connects you are asked first: deny, view only, control, or
control and files. Press Enter at any time to end a session; Ctrl-C withdraws the request.

Downloaded from a help desk's Get help page, it knows its gateway and key: run it as it is.`,
		// Opened from a file manager, it asks for help: what request does.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRequest(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.AddFlags(root)
	root.AddCommand(newRequestCommand())
	return root
}
