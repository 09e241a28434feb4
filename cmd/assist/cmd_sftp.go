package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/viewer"
)

func newSFTPCommand(g *globalOptions) *cobra.Command {
	var program string
	cmd := &cobra.Command{
		Use:   "sftp FILE.otc [-- SFTP-OPTIONS...]",
		Short: "Run OpenSSH's sftp on the person's files with a one-time file",
		Long: `Run the system's sftp with a temporary OpenSSH configuration for the one-time file (see
assist ssh-config), removed when sftp ends. Options after -- go to sftp:

  assist sftp K7QH-4ZPD.otc
  assist sftp K7QH-4ZPD.otc -- -b commands.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at != -1 && at != 1 || at == -1 && len(args) > 1 {
				return &cli.Usage{Err: errors.New("give one .otc file, then -- and sftp's options")}
			}
			return runSFTP(cmd.Context(), g, args[0], args[1:], program, os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&program, "program", "sftp", "the sftp program to run")
	return cmd
}

// runSFTP runs sftp to its end and returns its exit status. Interrupts reach sftp from the
// terminal directly; assist only waits, so the temporary credential is always removed.
func runSFTP(ctx context.Context, g *globalOptions, arg string, extra []string, program string, stdin io.Reader, stdout, stderr io.Writer) error {
	otc, err := loadOTC(ctx, g, arg)
	if err != nil {
		return err
	}
	bin, err := exec.LookPath(program)
	if err != nil {
		return cli.WithHint(fmt.Errorf("%s: not found", program), "install OpenSSH's client (Debian: apt install openssh-client), or give --program PATH")
	}
	dir, err := os.MkdirTemp("", "assist-sftp-")
	if err != nil {
		return fmt.Errorf("temporary ssh config: %w", err)
	}
	defer os.RemoveAll(dir)
	c, err := viewer.WriteSSHConfig(dir, otc)
	if err != nil {
		return err
	}
	args := append(append([]string{"-F", c.Config}, extra...), c.Alias)
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() >= 0 {
		return cli.ExitStatus(exit.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", program, err)
	}
	return nil
}
