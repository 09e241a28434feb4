package sshd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/tickets"
)

func (s *Server) cmdUserAdd(c caller) *cobra.Command {
	var key, fullName string
	var admin, passwordStdin bool
	cmd := &cobra.Command{
		Use:   "add NAME --key 'ssh-ed25519 AAAA…'|-",
		Short: "Create a technician account (admins)",
		Long: "Create a technician account. --key takes a public key line, or - to read key lines from\n" +
			"standard input: ssh -p 2222 admin@gateway user add bob --key - < bob.pub",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.admin(c, "user add"); err != nil {
				return err
			}
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
			u := tickets.User{Name: name, FullName: fullName, Keys: keys, Admin: admin}
			if passwordStdin {
				if u.PasswordHash, err = readPassword(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			if err := s.cfg.Store.AddUser(u); err != nil {
				return err
			}
			s.audit(tickets.Event{Kind: "user.added", Actor: c.name, Attrs: map[string]string{"user": name, "admin": fmt.Sprint(admin)}})
			fmt.Fprintf(cmd.OutOrStdout(), "added %s with %d key(s)\n", name, len(keys))
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "public key line, or - to read from standard input (required)")
	cmd.Flags().StringVar(&fullName, "full-name", "", "the technician's full name, shown to the person asked for consent")
	cmd.Flags().BoolVar(&admin, "admin", false, "may manage accounts and read the audit trail")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read a help-desk web password from standard input")
	cmd.MarkFlagRequired("key")
	return cmd
}

// ValidUserName accepts names OpenSSH and the gateway's login roles can tell apart.
func ValidUserName(name string) error {
	if name == "" || len(name) > 32 || strings.HasPrefix(name, "otc-") || name == tickets.AgentUser {
		return fmt.Errorf("user name %q: 1 to 32 characters, not %q and not starting with otc-", name, tickets.AgentUser)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("user name %q: use lowercase letters, digits, - _ .", name)
		}
	}
	return nil
}

func (s *Server) cmdUserList(c caller) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List technician accounts (admins)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.admin(c, "user list"); err != nil {
				return err
			}
			users, err := s.cfg.Store.Users()
			if err != nil {
				return err
			}
			if asJSON {
				type view struct {
					Name        string `json:"name"`
					FullName    string `json:"full_name"`
					Admin       bool   `json:"admin"`
					Keys        int    `json:"keys"`
					HasPassword bool   `json:"has_password"`
				}
				out := make([]view, 0, len(users))
				for _, u := range users {
					out = append(out, view{u.Name, u.FullName, u.Admin, len(u.Keys), u.PasswordHash != ""})
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFULL NAME\tADMIN\tKEYS\tWEB PASSWORD")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%v\n", u.Name, u.FullName, u.Admin, len(u.Keys), u.PasswordHash != "")
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func (s *Server) cmdUserRemove(c caller) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a technician account (admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.admin(c, "user remove"); err != nil {
				return err
			}
			if args[0] == c.name {
				return fmt.Errorf("user remove: you cannot remove your own account")
			}
			if err := s.cfg.Store.RemoveUser(args[0]); err != nil {
				return friendly(err)
			}
			s.audit(tickets.Event{Kind: "user.removed", Actor: c.name, Attrs: map[string]string{"user": args[0]}})
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
			return nil
		},
	}
}

func (s *Server) cmdUserPasswd(c caller) *cobra.Command {
	return &cobra.Command{
		Use:   "passwd [NAME]",
		Short: "Set the help-desk web password, read from standard input (your own, or any account for admins)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := c.name
			if len(args) == 1 && args[0] != c.name {
				if err := s.admin(c, "user passwd"); err != nil {
					return err
				}
				name = args[0]
			}
			hash, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if _, err := s.cfg.Store.UpdateUser(name, func(u *tickets.User) error { u.PasswordHash = hash; return nil }); err != nil {
				return friendly(err)
			}
			s.audit(tickets.Event{Kind: "user.password", Actor: c.name, Attrs: map[string]string{"user": name}})
			fmt.Fprintf(cmd.OutOrStdout(), "password set for %s\n", name)
			return nil
		},
	}
}

// readPassword reads one line from r and hashes it for the web screen.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 2048)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	return tickets.HashPassword(strings.TrimRight(line, "\r\n"))
}

func (s *Server) cmdAudit(c caller) *cobra.Command {
	var since, request, kind string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit trail (admins)",
		Long:  "Show the audit trail. --since takes a duration (24h) or an RFC 3339 time.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.admin(c, "audit"); err != nil {
				return err
			}
			f := tickets.EventFilter{Request: request, Kind: kind, Limit: limit}
			if since != "" {
				t, err := parseSince(since, s.cfg.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			if request != "" {
				code, err := tickets.NormalizeCode(request)
				if err != nil {
					return err
				}
				f.Request = code
			}
			events, err := s.cfg.Store.Events(f)
			if err != nil {
				return err
			}
			if asJSON {
				if events == nil {
					events = []tickets.Event{}
				}
				return writeJSON(cmd.OutOrStdout(), events)
			}
			for _, e := range events {
				fmt.Fprintf(cmd.OutOrStdout(), "%6d %s %-18s %-10s %s %s\n", e.Seq, e.Time.Local().Format(time.DateTime), e.Kind, e.Request, e.Actor, formatAttrs(e.Attrs))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only events since this duration ago (24h) or time (RFC 3339)")
	cmd.Flags().StringVar(&request, "request", "", "only events of this request code")
	cmd.Flags().StringVar(&kind, "kind", "", "only events whose kind starts with this (sftp., auth.)")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the last N events")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want a duration like 24h or a time like 2026-11-24T09:00:00Z", v)
	}
	return t, nil
}

func formatAttrs(attrs map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(attrs) {
		fmt.Fprintf(&b, "%s=%q ", k, attrs[k])
	}
	return strings.TrimSpace(b.String())
}
