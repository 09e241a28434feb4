package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

type initOptions struct {
	storeOptions
	data     string
	admin    string
	adminKey string
	fullName string
}

func (o *initOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.data, "data", "", "data directory to create (host key, database, audit key)")
	cmd.Flags().StringVar(&o.admin, "admin", "", "name of the first admin account")
	cmd.Flags().StringVar(&o.adminKey, "admin-key", "", "file with the admin's SSH public key (- for standard input)")
	cmd.Flags().StringVar(&o.fullName, "admin-full-name", "", "the admin's full name")
	o.storeOptions.AddFlags(cmd)
	for _, f := range []string{"data", "admin", "admin-key"} {
		cmd.MarkFlagRequired(f)
	}
}

func newInitCommand() *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init --data DIR --admin NAME --admin-key KEY.pub",
		Short: "Create a data directory: host key, database and the first admin account",
		Long: `Create a data directory: an ed25519 host key, the request database, the audit key and the
first admin account. It prints the host key line that agents and technicians pin.
It refuses a directory that is already initialised.

With --store etcd://HOST:PORT,… the requests, accounts and audit trail go to that etcd cluster
instead, made there once for every gateway that will share it; the data directory keeps the
host key and the audit key, which every gateway of the cluster needs a copy of.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runInit(ctx context.Context, o initOptions, stdin io.Reader, stdout io.Writer) error {
	var keyData []byte
	var err error
	if o.adminKey == "-" {
		keyData, err = io.ReadAll(io.LimitReader(stdin, 64<<10))
	} else {
		keyData, err = os.ReadFile(o.adminKey)
	}
	if err != nil {
		return fmt.Errorf("read admin key: %w", err)
	}
	keys, err := parseKeys(keyData)
	if err != nil {
		return err
	}
	d := dataDir(o.data)
	store, err := o.create(ctx, d)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.AddUser(tickets.User{Name: o.admin, FullName: o.fullName, Keys: keys, Admin: true}); err != nil {
		return fmt.Errorf("add admin: %w", err)
	}
	if _, err := store.AppendEvent(tickets.Event{Kind: "gateway.initialised", Actor: o.admin}); err != nil {
		return err
	}
	hk, err := d.hostKey()
	if err != nil {
		return err
	}
	where := o.data
	if o.etcd() {
		where = o.store + " (keys in " + o.data + ")"
	}
	fmt.Fprintf(stdout, "initialised %s with admin %s\nhost key (give this line to agents and technicians):\n%s", where, o.admin, hostKeyLine(hk))
	return nil
}

// create makes the data directory and the store: the bbolt file in it, or the cluster's.
func (o initOptions) create(ctx context.Context, d dataDir) (tickets.Store, error) {
	if !o.etcd() {
		return d.create()
	}
	if _, err := parseStoreURL(o.store); err != nil {
		return nil, err // before anything is made
	}
	undo, err := d.createKeys()
	if err != nil {
		return nil, err
	}
	store, err := o.openEtcd(ctx, d, true, nil)
	if err != nil {
		undo()
		os.Remove(string(d))
		return nil, err
	}
	return store, nil
}

// parseKeys reads authorized_keys lines.
func parseKeys(data []byte) ([]string, error) {
	var keys []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keys = append(keys, line)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("admin key: no public key found (want a line like ssh-ed25519 AAAA…, as in ~/.ssh/id_ed25519.pub)")
	}
	for _, k := range keys {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err != nil {
			return nil, fmt.Errorf("admin key: %q is not an OpenSSH public key line", clipLine(k))
		}
	}
	return keys, nil
}

func clipLine(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
