package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
)

func newHostkeyCommand() *cobra.Command {
	var data string
	var fingerprint bool
	cmd := &cobra.Command{
		Use:   "hostkey --data DIR",
		Short: "Print the gateway's public host key line (what agents are given with --gateway-key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hk, err := dataDir(data).hostKey()
			if err != nil {
				return err
			}
			if fingerprint {
				fmt.Fprintln(cmd.OutOrStdout(), ssh.FingerprintSHA256(hk.PublicKey()))
				return nil
			}
			fmt.Fprint(cmd.OutOrStdout(), hostKeyLine(hk))
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "data directory")
	cmd.Flags().BoolVar(&fingerprint, "fingerprint", false, "print the SHA256 fingerprint instead")
	cmd.MarkFlagRequired("data")
	return cmd
}
