package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/viewer"
)

func newSSHConfigCommand(g *globalOptions) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "ssh-config FILE.otc [-o DIR]",
		Short: "Write what OpenSSH's sftp and scp need to reach the person's files with a one-time file",
		Long: `Write DIR/key (the one-time credential, 0600), DIR/known_hosts (the gateway's pinned host keys)
and DIR/config (a Host block that uses only them), then print how to use them:

  sftp -F DIR/config assist-k7qh-4zpd
  scp -F DIR/config assist-k7qh-4zpd:/etc/hosts .

scp must use its default SFTP mode: scp -O (the legacy protocol) runs a command on the other side,
which a one-time session refuses, as it refuses shells and port forwarding. The credential starts one
session; delete DIR when you are done. assist sftp FILE.otc does all this with a temporary DIR.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSSHConfig(cmd.Context(), g, args[0], dir, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&dir, "output", "o", "", "directory to write (default: the file's name with .ssh instead of .otc)")
	return cmd
}

func runSSHConfig(ctx context.Context, g *globalOptions, arg, dir string, stdout io.Writer) error {
	otc, err := loadOTC(ctx, g, arg)
	if err != nil {
		return err
	}
	if dir == "" {
		dir = strings.TrimSuffix(arg, filepath.Ext(arg)) + ".ssh"
	}
	c, err := viewer.WriteSSHConfig(dir, otc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `wrote %s, %s and %s for request %s
the credential starts one session until %s; once that session ends it is spent

  %s
  %s
  %s

scp must use its default SFTP mode (not scp -O): a one-time session offers only SFTP.
`, c.Config, c.Key, c.KnownHosts, otc.Request, otc.Expires.Local().Format(time.DateTime),
		c.SFTPCommand(), c.SCPCommand(), c.SCPUploadCommand())
	return nil
}
