package commands

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
)

func (t *tree) cmdUserAdd() *cobra.Command {
	var key, fullName, roleName string
	var admin, passwordStdin bool
	cmd := &cobra.Command{
		Use:   "add NAME --key 'ssh-ed25519 AAAA…'|-",
		Short: "Create an account: a technician, an admin or an auditor (admins)",
		Long: "Create an account. --key takes a public key line, or - to read key lines from\n" +
			"standard input: ssh -p 2222 admin@gateway user add bob --key - < bob.pub\n" +
			"--role says what it may do: technician (the queue and sessions), admin (also accounts,\n" +
			"the audit trail, recordings) or auditor (reads requests, the audit trail and recordings;\n" +
			"connects to nobody).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := ValidUserName(name); err != nil {
				return err
			}
			if passwordStdin && key == "-" {
				return &usageError{errors.New("--key - and --password-stdin both want standard input: give the key as a line")}
			}
			keys, err := readKeys(key, cmd.InOrStdin())
			if err != nil {
				return err
			}
			role, err := tickets.ParseRole(roleName)
			if err != nil {
				return &usageError{err}
			}
			if admin {
				if cmd.Flags().Changed("role") && role != tickets.RoleAdmin {
					return &usageError{fmt.Errorf("--admin and --role %s say two things: give one", role)}
				}
				role = tickets.RoleAdmin
			}
			u := tickets.User{Name: name, FullName: fullName, Keys: keys, Role: role}
			if passwordStdin {
				if u.PasswordHash, err = readPassword(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			if err := t.Store.AddUser(u); err != nil {
				return err
			}
			t.Gateway.Audit(tickets.Event{Kind: "user.added", Actor: t.c.Name, Attrs: map[string]string{"user": name, "role": string(role)}})
			fmt.Fprintf(cmd.OutOrStdout(), "added %s with %d key(s)\n", name, len(keys))
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "public key line, or - to read from standard input (required)")
	cmd.Flags().StringVar(&fullName, "full-name", "", "the technician's full name, shown to the person asked for consent")
	cmd.Flags().StringVar(&roleName, "role", string(tickets.RoleTechnician), "technician, admin or auditor")
	cmd.Flags().BoolVar(&admin, "admin", false, "the same as --role admin")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read a help-desk web password from standard input")
	cmd.MarkFlagRequired("key")
	return cmd
}

// ValidUserName accepts names OpenSSH and the gateway's login roles can tell apart.
func ValidUserName(name string) error {
	if name == "" || len(name) > 32 || strings.HasPrefix(name, "otc-") || name == protocol.AgentUser {
		return fmt.Errorf("user name %q: 1 to 32 characters, not %q and not starting with otc-", name, protocol.AgentUser)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("user name %q: use lowercase letters, digits, - _ .", name)
		}
	}
	return nil
}

func (t *tree) cmdUserList() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List accounts and their roles (admins)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			users, err := t.Store.Users()
			if err = t.skipped(cmd.ErrOrStderr(), err); err != nil {
				return err
			}
			if asJSON {
				type view struct {
					Name        string       `json:"name"`
					FullName    string       `json:"full_name"`
					Role        tickets.Role `json:"role"`
					Admin       bool         `json:"admin"`
					Keys        int          `json:"keys"`
					HasPassword bool         `json:"has_password"`
				}
				out := make([]view, 0, len(users))
				for _, u := range users {
					role := u.AccountRole()
					out = append(out, view{u.Name, u.FullName, role, role == tickets.RoleAdmin, len(u.Keys), u.PasswordHash != ""})
				}
				return writeJSONList(cmd.OutOrStdout(), out, appendJSON)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFULL NAME\tROLE\tKEYS\tWEB PASSWORD")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%v\n", u.Name, u.FullName, u.AccountRole(), len(u.Keys), u.PasswordHash != "")
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func (t *tree) cmdUserRemove() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an account (admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == t.c.Name {
				return fmt.Errorf("user remove: you cannot remove your own account")
			}
			if err := t.Store.RemoveUser(args[0]); err != nil {
				return t.friendly(err)
			}
			t.Gateway.Audit(tickets.Event{Kind: "user.removed", Actor: t.c.Name, Attrs: map[string]string{"user": args[0]}})
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
			return nil
		},
	}
}

func (t *tree) cmdUserPasswd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "passwd [NAME]",
		Short: "Set the help-desk web password, read from standard input (your own, or any account for admins)",
		Long: "Set the help-desk web password of your account, or of any account for admins. It is read\n" +
			"from standard input: echo 'a long passphrase' | ssh -p 2222 NAME@GATEWAY user passwd\n" +
			"(assist user passwd asks for it on a terminal, twice, without echo).",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := t.c.Name
			if len(args) == 1 && args[0] != t.c.Name {
				if err := t.may("user passwd", tickets.ManageAccounts); err != nil {
					return err
				}
				name = args[0]
			}
			hash, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if _, err := t.Store.UpdateUser(name, func(u *tickets.User) error { u.PasswordHash = hash; return nil }); err != nil {
				return t.friendly(err)
			}
			t.Gateway.Audit(tickets.Event{Kind: "user.password", Actor: t.c.Name, Attrs: map[string]string{"user": name}})
			fmt.Fprintf(cmd.OutOrStdout(), "password set for %s\n", name)
			return nil
		},
	}
	// Standard input is where the password always comes from; the flag is accepted so that
	// scripts can say so, as they do for user add.
	cmd.Flags().Bool("password-stdin", true, "read the password from standard input (always)")
	return cmd
}

// readPassword reads one line from r and hashes it for the web screen.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 2048)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	return tickets.HashPassword(strings.TrimRight(line, "\r\n"))
}

// readKeys reads authorized_keys lines from a flag value or, for "-", from stdin.
func readKeys(value string, stdin io.Reader) ([]string, error) {
	data := []byte(value)
	if value == "-" {
		var err error
		if data, err = io.ReadAll(io.LimitReader(stdin, 64<<10)); err != nil {
			return nil, fmt.Errorf("read keys: %w", err)
		}
	}
	var keys []string
	for len(bytes.TrimSpace(data)) > 0 {
		k, comment, _, rest, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			return nil, fmt.Errorf("--key: not an OpenSSH public key line (ssh-ed25519 AAAA… as in ~/.ssh/id_ed25519.pub)")
		}
		line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
		if comment != "" {
			line += " " + comment
		}
		keys = append(keys, line)
		data = rest
	}
	if len(keys) == 0 {
		return nil, errors.New("--key: no public key given")
	}
	return keys, nil
}
