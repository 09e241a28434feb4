package commands

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/assistkit/assist/tickets"
	"github.com/spf13/cobra"
)

// RequestView is a request as commands print it with --json: the form and what a technician needs
// beside it (not the agent's key, nor who closed it).
type RequestView struct {
	Code string `json:"code"`
	ID   string `json:"id"`
	tickets.Form
	Created    time.Time `json:"created"`
	RemoteAddr string    `json:"remote_addr"`
	State      string    `json:"state"`
	Online     bool      `json:"online"`
	Owner      string    `json:"owner"` // the technician who claimed it; empty: nobody
	// Notes are the technicians' notes, oldest first: in request show (and the commands that
	// print one request), not in the list.
	Notes []tickets.Note `json:"notes,omitempty"`
}

// view is r as a list shows it: without its notes (detail adds them).
func (t *tree) view(r tickets.Request) RequestView {
	return RequestView{Code: r.Code, ID: r.ID, Form: r.Form, Created: r.Created.UTC(), RemoteAddr: r.RemoteAddr,
		State: string(r.State), Online: r.Open() && t.Gateway.Online(r.ID), Owner: r.Owner}
}

// appendView appends r's view as JSON, as request list --json prints each row.
func (t *tree) appendView(buf []byte, r tickets.Request) ([]byte, error) {
	v := t.view(r)
	return v.appendJSON(buf)
}

// detail is r as request show prints it: with its notes.
func (t *tree) detail(r tickets.Request) RequestView {
	v := t.view(r)
	v.Notes = r.Notes
	return v
}

// ownerWords is the owner column: a dash for nobody.
func ownerWords(owner string) string {
	if owner == "" {
		return "-"
	}
	return owner
}

// screenWords is Form.Screen for the technician; agents before protocol version 4 did not say.
func screenWords(s string) string {
	if s == "" {
		return "not said (an older agent)"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "online"
	}
	return "offline"
}

func (t *tree) cmdRequestList() *cobra.Command {
	var all, asJSON bool
	var since, after string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List open requests, newest first (--all or --since include closed ones, a page at a time)",
		Long: "List open requests, newest first. --all lists closed ones too, --since those created since a\n" +
			"duration ago (24h) or a time (RFC 3339), closed or not; both 100 at a time unless --limit says\n" +
			"otherwise, and the end of a page names the --after that continues it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := tickets.RequestQuery{Closed: all || since != "", After: after, Limit: limit}
			if since != "" {
				at, err := parseSince(since, t.Now())
				if err != nil {
					return &usageError{err}
				}
				q.Since = at
			}
			if q.Closed && limit == 0 {
				q.Limit = 100
			}
			page, err := t.Store.Requests(q)
			if err != nil {
				return err
			}
			t.reportSkipped(cmd.ErrOrStderr(), page.Skipped)
			if page.Next != "" {
				defer fmt.Fprintf(cmd.ErrOrStderr(), "more: add --after %s for the next page\n", page.Next)
			}
			if asJSON {
				return writeJSONList(cmd.OutOrStdout(), page.Requests, t.appendView)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tFULL NAME\tUSER NAME\tCOMPUTER\tEMAIL\tPHONE\tDATE CREATED\tLOCAL IP\tSTATE\tOWNER")
			for _, r := range page.Requests {
				v := t.view(r)
				state := v.State
				if v.State != string(tickets.StateClosed) {
					state += ", " + onOff(v.Online)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Code, v.FullName, v.UserName, v.Computer,
					v.Email, v.Phone, v.Created.Local().Format("2006-01-02 15:04"), v.LocalIP, state, ownerWords(v.Owner))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include closed requests")
	cmd.Flags().StringVar(&since, "since", "", "only requests created since this duration ago (24h), time (RFC 3339) or date (2026-11-24), closed ones too")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most N requests (default: all open ones; 100 with --all or --since)")
	cmd.Flags().StringVar(&after, "after", "", "continue after this request ID (what the end of the previous page names)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func (t *tree) cmdRequestShow() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CODE",
		Short: "Show one request: the Assistance Request Connect screen's rows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := t.Store.Request(args[0])
			if err != nil {
				return t.friendly(err)
			}
			v := t.detail(r)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			rows := [][2]string{
				{"Request", v.Code}, {"Full Name", v.FullName}, {"User Name", v.UserName}, {"Computer", v.Computer},
				{"Email", v.Email}, {"Phone", v.Phone}, {"Message", strings.ReplaceAll(v.Message, "\n", "\n\t")},
				{"Date Created", v.Created.Local().Format("2006-01-02 15:04:05 MST")}, {"Local IP Address", v.LocalIP},
				{"Remote Address", v.RemoteAddr}, {"Screen", screenWords(v.Screen)}, {"State", v.State + ", " + onOff(v.Online)},
				{"Owner", ownerWords(v.Owner)},
			}
			for _, row := range rows {
				fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return writeNotes(cmd.OutOrStdout(), v.Notes)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

// writeNotes lists a request's notes below its rows: a heading, then each note's time and
// author on one line and its text indented below.
func writeNotes(w io.Writer, notes []tickets.Note) error {
	if len(notes) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nNotes (%d):\n", len(notes))
	for _, n := range notes {
		fmt.Fprintf(w, "  %s  %s\n    %s\n", n.Time.Local().Format("2006-01-02 15:04:05"), n.By, strings.ReplaceAll(n.Text, "\n", "\n    "))
	}
	return nil
}

func (t *tree) cmdRequestClose() *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "close CODE | --from ADDR",
		Short: "Close a request: its agent is told and disconnects, its one-time credentials are revoked",
		Long: "Close a request: its agent is told and disconnects, its one-time credentials are revoked.\n" +
			"--from ADDR closes every open request filed from an address or network (admins):\n" +
			"  request close --from 203.0.113.7\n  request close --from 203.0.113.0/24",
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (from == "") == (len(args) == 0) {
				return &usageError{errors.New("give a request code or --from ADDR, not both")}
			}
			if from != "" {
				return t.closeFrom(from, cmd.OutOrStdout())
			}
			r, err := t.Gateway.CloseRequest(args[0], t.c.Name)
			if err != nil {
				return t.friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "closed %s (%s)\n", r.Code, r.FullName)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "close every open request whose agent is connected (or was last) from this address or CIDR network (admins)")
	return cmd
}

// closeFrom closes every open request filed from an address or network.
func (t *tree) closeFrom(from string, out io.Writer) error {
	if err := t.may("request close --from", tickets.CloseInBulk); err != nil {
		return err
	}
	network, err := parseNetwork(from)
	if err != nil {
		return &usageError{err}
	}
	closed, err := t.Gateway.CloseFrom(network, t.c.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "closed %d open request(s) from %s\n", closed, network)
	return nil
}

// parseNetwork reads an address (a network of one) or a CIDR network.
func parseNetwork(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("--from %q: want an IP address or a CIDR network such as 203.0.113.0/24", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (t *tree) cmdRequestOTC() *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "otc CODE",
		Short: "Issue a one-time connection file for a request and print it",
		Long: "Issue a one-time connection file (.otc) that opens the request's desktop and files for you.\n" +
			"It is printed on standard output; save it with: ssh … request otc CODE > CODE.otc",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			otc, _, err := t.Gateway.IssueOTC(args[0], t.c.Name, ttl, t.c.Addr)
			if err != nil {
				return t.friendly(err)
			}
			_, err = cmd.OutOrStdout().Write(otc.Marshal())
			return err
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", tickets.DefaultTTL, fmt.Sprintf("how long the file may be used to start a session (%s to %s)", tickets.MinTTL, tickets.MaxTTL))
	return cmd
}

func (t *tree) cmdWhoami() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Print your account name and role (technician, admin or auditor)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s)\n", t.c.Name, t.c.role())
			return nil
		},
	}
}
