// Command assist is the technician's tool: list and close requests, get one-time connection
// files, open a person's desktop, move files, and manage accounts — all through the gateway.
package main

import (
	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
)

var version = "dev"

func main() {
	cli.ThroughputGC()
	cli.Main(newRootCommand())
}

func newRootCommand() *cobra.Command {
	var g globalOptions
	root := &cobra.Command{
		Use:     "assist",
		Short:   "Help a person at their desktop through the assist gateway",
		Version: version,
		Long: `assist is the technician's side of assist, an SSH-based remote assistance toolkit.

  assist login --gateway gw.example.org:2222 --user alice --gateway-key 'ssh-ed25519 AAAA…'
  assist request list                  # who is asking for help
  assist request show K7QH-4ZPD        # the Assistance Request Connect screen's rows, owner, notes
  assist request claim K7QH-4ZPD       # make it yours (your first otc does too)
  assist request assign K7QH-4ZPD bob  # hand it over; request release gives it back to the queue
  assist request note K7QH-4ZPD "called, printer unplugged"
  assist connect K7QH-4ZPD             # get a one-time file and open the person's desktop
  assist otc K7QH-4ZPD                 # or just save the one-time file (K7QH-4ZPD.otc)
  assist cp K7QH-4ZPD.otc:/etc/hosts . # copy files with the one-time file
  assist request close K7QH-4ZPD

Gateway, user, identity and gateway key come from flags, then ASSIST_GATEWAY, ASSIST_USER,
ASSIST_IDENTITY, ASSIST_GATEWAY_KEY, then the profile saved by assist login.`,
	}
	g.AddFlags(root)
	root.AddCommand(
		newRemoteCommand(&g, "request", "List, show, watch, claim, assign, release, note and close assistance requests (runs on the gateway)"),
		newRemoteCommand(&g, "user", "Manage technician accounts: add, list, remove, passwd (admins; runs on the gateway)"),
		newRemoteCommand(&g, "audit", "Show the audit trail: --since, --request, --kind, --json (admins; runs on the gateway)"),
		newRecordingCommand(&g),
		newLoginCommand(&g),
		newOTCCommand(&g),
		newConnectCommand(&g),
		newCpCommand(&g), newSFTPCommand(&g), newSSHConfigCommand(&g),
		newInstallCommand(), newUninstallCommand(),
	)
	return root
}
