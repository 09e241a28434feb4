// Command assistd is the assist gateway: the SSH server agents, technicians and one-time sessions
// connect to, the request store, the audit trail and the help-desk web screen.
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
	root := &cobra.Command{
		Use:     "assistd",
		Short:   "The assist gateway",
		Version: version,
		Long: `assistd is the gateway of assist, an SSH-based remote assistance toolkit.

People who need help run assist-agent, which files a request and keeps a reverse SSH connection
here. Technicians list requests over SSH (assist request list, or plain ssh), get a one-time
connection file (.otc) and open the person's desktop and files with assist connect.

Start with:
  assistd init --data /var/lib/assistd --admin alice --admin-key ~/.ssh/id_ed25519.pub
  assistd serve --data /var/lib/assistd`,
	}
	root.AddCommand(newInitCommand(), newServeCommand(), newHostkeyCommand(), newAuditCommand(), newCheckCommand(), newBackupCommand(), newRestoreCommand(), newClusterCommand())
	return root
}
