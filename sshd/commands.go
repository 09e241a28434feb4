package sshd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// commands builds the command tree a technician reaches over SSH exec. It is built afresh for
// every command, bound to the caller, so nothing leaks between technicians.
func (s *Server) commands(c caller, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "assistd",
		Short:         "Commands a technician runs on the assist gateway over SSH",
		Long:          "Run these with ssh (ssh -p 2222 NAME@GATEWAY request list) or with the assist command.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.DisableDefaultCmd = true

	req := &cobra.Command{Use: "request", Short: "List, show, close requests and issue one-time connection files"}
	req.AddCommand(s.cmdRequestList(c), s.cmdRequestShow(c), s.cmdRequestClose(c), s.cmdRequestOTC(c))
	user := &cobra.Command{Use: "user", Short: "Manage technician accounts (admins)"}
	user.AddCommand(s.cmdUserAdd(c), s.cmdUserList(c), s.cmdUserRemove(c), s.cmdUserPasswd(c))
	root.AddCommand(req, user, s.cmdAudit(c), s.cmdWhoami(c))
	markUsage(root)
	return root
}

// RequestView is a request as commands print it with --json.
type RequestView struct {
	Code       string    `json:"code"`
	ID         string    `json:"id"`
	FullName   string    `json:"full_name"`
	UserName   string    `json:"user_name"`
	Computer   string    `json:"computer"`
	Email      string    `json:"email"`
	Phone      string    `json:"phone"`
	Message    string    `json:"message"`
	Created    time.Time `json:"created"`
	LocalIP    string    `json:"local_ip"`
	RemoteAddr string    `json:"remote_addr"`
	State      string    `json:"state"`
	Online     bool      `json:"online"`
}

func (s *Server) view(r tickets.Request) RequestView {
	return RequestView{r.Code, r.ID, r.FullName, r.UserName, r.Computer, r.Email, r.Phone, r.Message,
		r.Created.UTC(), r.LocalIP, r.RemoteAddr, string(r.State), r.Open() && s.Online(r.ID)}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func onOff(b bool) string {
	if b {
		return "online"
	}
	return "offline"
}

func (s *Server) cmdRequestList(c caller) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List open requests, newest first (--all includes closed ones)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reqs, err := s.cfg.Store.Requests(all)
			if err != nil {
				return err
			}
			views := make([]RequestView, 0, len(reqs))
			for _, r := range reqs {
				views = append(views, s.view(r))
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), views)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tFULL NAME\tUSER NAME\tCOMPUTER\tEMAIL\tPHONE\tDATE CREATED\tLOCAL IP\tSTATE")
			for _, v := range views {
				state := v.State
				if v.State != string(tickets.StateClosed) {
					state += ", " + onOff(v.Online)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Code, v.FullName, v.UserName, v.Computer,
					v.Email, v.Phone, v.Created.Local().Format("2006-01-02 15:04"), v.LocalIP, state)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include closed requests")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func (s *Server) cmdRequestShow(c caller) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CODE",
		Short: "Show one request: the Assistance Request Connect screen's rows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := s.cfg.Store.Request(args[0])
			if err != nil {
				return friendly(err)
			}
			v := s.view(r)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			rows := [][2]string{
				{"Request", v.Code}, {"Full Name", v.FullName}, {"User Name", v.UserName}, {"Computer", v.Computer},
				{"Email", v.Email}, {"Phone", v.Phone}, {"Message", strings.ReplaceAll(v.Message, "\n", "\n\t")},
				{"Date Created", v.Created.Local().Format("2006-01-02 15:04:05 MST")}, {"Local IP Address", v.LocalIP},
				{"Remote Address", v.RemoteAddr}, {"State", v.State + ", " + onOff(v.Online)},
			}
			for _, row := range rows {
				fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

func (s *Server) cmdRequestClose(c caller) *cobra.Command {
	return &cobra.Command{
		Use:   "close CODE",
		Short: "Close a request: its agent is told and disconnects, its one-time credentials are revoked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := s.CloseRequest(args[0], c.name)
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "closed %s (%s)\n", r.Code, r.FullName)
			return nil
		},
	}
}

func (s *Server) cmdRequestOTC(c caller) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "otc CODE",
		Short: "Issue a one-time connection file for a request and print it",
		Long: "Issue a one-time connection file (.otc) that opens the request's desktop and files for you.\n" +
			"It is printed on standard output; save it with: ssh … request otc CODE > CODE.otc",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			otc, _, err := s.IssueOTC(args[0], c.name, ttl, c.addr)
			if err != nil {
				return friendly(err)
			}
			_, err = cmd.OutOrStdout().Write(otc.Marshal())
			return err
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", tickets.DefaultTTL, fmt.Sprintf("how long the file may be used to start a session (%s to %s)", tickets.MinTTL, tickets.MaxTTL))
	return cmd
}

func (s *Server) cmdWhoami(c caller) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Print your account name and whether it is an admin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			role := "technician"
			if c.admin {
				role = "admin"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s)\n", c.name, role)
			return nil
		},
	}
}

// admin refuses a command to non-admins.
func (s *Server) admin(c caller, what string) error {
	if c.admin {
		return nil
	}
	s.log.Info("refused", "user", c.name, "what", what, "reason", "not an admin")
	s.audit(tickets.Event{Kind: "refused", Actor: c.name, Attrs: map[string]string{"what": what, "reason": "not an admin"}})
	return fmt.Errorf("%s: only admins may do this", what)
}

// friendly turns store errors into messages for the technician.
func friendly(err error) error {
	if errors.Is(err, tickets.ErrNotFound) {
		return fmt.Errorf("%v (check the code: request list shows open requests)", err)
	}
	return err
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
