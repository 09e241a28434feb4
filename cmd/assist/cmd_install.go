package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// The file type that assist opens: the help desk's Open Connection sends .otc files as this type.
const (
	otcMIMEType  = "application/x-assist-otc"
	otcExtension = ".otc"
	otcTypeName  = "assist one-time connection file"
)

type installOptions struct {
	exe string // the assist to register; default: this program
}

func (o *installOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.exe, "exe", "", "the assist program to register (default: this one)")
}

func newInstallCommand() *cobra.Command {
	var o installOptions
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Make .otc files open with assist connect (for your account)",
		Long: `Register assist as the program that opens .otc files, for your account only, so that
opening a file that the help desk's Open Connection downloaded runs: assist connect FILE.

  Linux    a shared-mime-info type (application/x-assist-otc, *.otc) and assist.desktop in
           $XDG_DATA_HOME, made the default with xdg-mime
  Windows  the per-user keys under HKEY_CURRENT_USER\Software\Classes
  macOS    not possible yet: macOS associates files with application bundles, which assist
           is not; install prints what to do instead

Running it again changes nothing; assist uninstall removes it all. Install assist where it will
stay first: the association names this program's path.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := o.executable()
			if err != nil {
				return err
			}
			return installAssociation(exe, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func newUninstallCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "uninstall",
		Short: "Remove what assist install registered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return uninstallAssociation(cmd.OutOrStdout())
		},
	}
}

// executable is the absolute, symlink-free path of the assist to register.
func (o *installOptions) executable() (string, error) {
	exe := o.exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find this program: %w", err)
		}
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
	}
	abs, err := filepath.Abs(exe)
	if err != nil {
		return "", fmt.Errorf("--exe %s: %w", exe, err)
	}
	if strings.ContainsFunc(abs, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("%q: a path with control characters cannot be registered", abs)
	}
	return abs, nil
}

// warnIfTemporary says so when the registered program would vanish (go run, a download folder
// cleaned at reboot).
func warnIfTemporary(exe string, out io.Writer) {
	if tmp := os.TempDir(); strings.HasPrefix(exe, filepath.Clean(tmp)+string(filepath.Separator)) {
		fmt.Fprintf(out, "warning: %s is in the temporary directory; .otc files will stop opening when it goes.\nhint: install assist somewhere permanent and run its install from there\n", exe)
	}
}
