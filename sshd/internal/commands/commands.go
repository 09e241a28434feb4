// Package commands is the command tree a technician runs on the gateway over SSH exec
// (request list/show/close/otc, user …, audit, whoami) with its table and JSON output. It reaches
// the running gateway only through the small Gateway interface and the store, so the SSH server
// stays about connections and sessions.
package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/tickets"
)

// Gateway is what the commands need of the running gateway beside its store.
type Gateway interface {
	// Online reports whether the request's agent is connected now.
	Online(requestID string) bool
	// CloseRequest closes a request, revoking its credentials and disconnecting its agent.
	CloseRequest(codeOrID, by string) (tickets.Request, error)
	// IssueOTC mints a one-time connection file; reached is the address the technician used.
	IssueOTC(codeOrID, technician string, ttl time.Duration, reached string) (*tickets.OTC, tickets.Credential, error)
	// HandOver claims, assigns or releases a request, auditing it (or its refusal).
	HandOver(h tickets.Handover) (tickets.Handed, error)
	// AddNote adds a technician's note to a request, auditing it.
	AddNote(n tickets.Noting) (tickets.Noted, error)
	// CloseFrom closes every open request filed from an address in network and says how many.
	CloseFrom(network netip.Prefix, by string) (int, error)
	// Audit records an event in the audit trail and the log.
	Audit(tickets.Event)
	// WatchRequests streams the requests that change from now on, until ctx ends.
	WatchRequests(ctx context.Context) <-chan tickets.RequestChange
}

// Env is what every command runs against.
type Env struct {
	Gateway Gateway
	Store   tickets.Store
	Log     *slog.Logger // scoped to the technician's connection
	Now     func() time.Time
	// Recordings are the session recordings; nil when the gateway records nothing.
	Recordings Recordings
}

// Caller is who runs a command, as the gateway authenticated them.
type Caller struct {
	Name string
	Role tickets.Role // empty is a technician
	Addr string       // the gateway address the technician reached, for .otc files
}

// role is the caller's role; a Caller made without one is a technician.
func (c Caller) role() tickets.Role {
	if c.Role == "" {
		return tickets.RoleTechnician
	}
	return c.Role
}

// outputBuffer is how much of a command's output is held before it is written: one SSH packet's
// worth, so a long table leaves in full packets instead of one packet per cell.
const outputBuffer = 32 << 10

// Run runs one command line for c and returns its exit status: 0, 1 for a failed command, 2 for
// a command line the tree does not accept. Output is buffered and flushed when the command is
// done (stdout, then stderr). The command runs under ctx.
func Run(ctx context.Context, env Env, c Caller, line string, stdin io.Reader, stdout, stderr io.Writer) uint32 {
	out, errw := bufio.NewWriterSize(stdout, outputBuffer), bufio.NewWriterSize(stderr, 4<<10)
	defer errw.Flush()
	defer out.Flush()
	args, err := splitArgs(line)
	if err != nil {
		fmt.Fprintf(errw, "assistd: %v\n", err)
		return 2
	}
	env.Log.Info("command", "args", clip(strings.Join(args, " ")))
	cmd := newTree(env, c, stdin, out, errw)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		var ue *usageError
		var he *hintError
		fmt.Fprintf(errw, "assistd: %v\n", err)
		if errors.As(err, &he) {
			fmt.Fprintf(errw, "hint: %s\n", he.hint)
		}
		// Cobra does not type its "unknown command" error; every other usage error is wrapped
		// by the tree itself (see markUsage).
		if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
			fmt.Fprintf(errw, "hint: run 'help' or add --help to a command\n")
			return 2
		}
		return 1
	}
	return 0
}

// tree is the command tree bound to one caller. It is built afresh for every command, so
// nothing leaks between technicians.
type tree struct {
	Env
	c Caller
}

func newTree(env Env, c Caller, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	t := &tree{Env: env, c: c}
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
	// Every command says what it needs (needs); the caller's role is checked before it runs.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if a, ok := cmd.Annotations[actionAnnotation]; ok {
			return t.may(cmd.CommandPath()[len(root.Name())+1:], tickets.Action(a))
		}
		return nil
	}

	req := &cobra.Command{Use: "request", Short: "List, show, watch, claim, hand over, note and close requests; issue one-time connection files"}
	req.AddCommand(
		needs(tickets.ReadRequests, t.cmdRequestList()),
		needs(tickets.ReadRequests, t.cmdRequestShow()),
		needs(tickets.ReadRequests, t.cmdRequestWatch()),
		needs(tickets.WorkRequests, t.cmdRequestClaim()),
		needs(tickets.WorkRequests, t.cmdRequestAssign()),
		needs(tickets.WorkRequests, t.cmdRequestRelease()),
		needs(tickets.WorkRequests, t.cmdRequestNote()),
		needs(tickets.WorkRequests, t.cmdRequestClose()),
		needs(tickets.Connect, t.cmdRequestOTC()))
	user := &cobra.Command{Use: "user", Short: "Manage accounts (admins); set your own web password"}
	user.AddCommand(
		needs(tickets.ManageAccounts, t.cmdUserAdd()),
		needs(tickets.ManageAccounts, t.cmdUserList()),
		needs(tickets.ManageAccounts, t.cmdUserRemove()),
		t.cmdUserPasswd()) // one's own: anyone; another's: ManageAccounts, checked by the command
	root.AddCommand(req, user, needs(tickets.ReadAudit, t.cmdAudit()), needs(tickets.ReadRecordings, t.cmdRecording()), t.cmdWhoami())
	markUsage(root)
	return root
}

// actionAnnotation is the cobra annotation that holds what a command needs of the caller's role.
const actionAnnotation = "assist-action"

// needs marks cmd as needing a (checked before it runs) and returns it.
func needs(a tickets.Action, cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[actionAnnotation] = string(a)
	return cmd
}

// usageError is a command line the tree could not accept (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// hintError is an error with what to do about it: Run prints it on a "hint:" line.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// markUsage makes flag and argument errors of every command in the tree usage errors.
func markUsage(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markUsage(sub)
	}
}

// may refuses what (a command) unless the caller's role allows a; a refusal is logged and
// audited, and its message names the role the command needs.
func (t *tree) may(what string, a tickets.Action) error {
	role := t.c.role()
	if role.May(a) {
		return nil
	}
	reason := fmt.Sprintf("role %s may not %s", role, a)
	t.Log.Info("refused", "user", t.c.Name, "what", what, "reason", reason)
	t.Gateway.Audit(tickets.Event{Kind: "refused", Actor: t.c.Name, Attrs: map[string]string{"what": what, "reason": reason}})
	return role.Refusal(what, a)
}

// reportSkipped tells the technician and the log about records a list could not read.
func (t *tree) reportSkipped(stderr io.Writer, skipped []tickets.SkippedRecord) {
	for _, sk := range skipped {
		t.Log.Warn("damaged record skipped; run assistd check", "record", sk.Key, "err", sk.Reason)
		fmt.Fprintf(stderr, "assistd: skipped damaged record %s (%s); an admin should run assistd check\n", sk.Key, sk.Reason)
	}
}

// skipped reports the records a list left out and clears that error; any other stays.
func (t *tree) skipped(stderr io.Writer, err error) error {
	var sk *tickets.SkippedError
	if errors.As(err, &sk) {
		t.reportSkipped(stderr, sk.Records)
		return nil
	}
	return err
}

// friendly turns store errors into messages for the technician.
func (t *tree) friendly(err error) error {
	var ce *tickets.ClaimedError
	switch {
	case errors.Is(err, tickets.ErrNoAccount):
		return &hintError{err, "check the name: user list (admins) shows every account"}
	case errors.Is(err, tickets.ErrNotFound):
		return fmt.Errorf("%v (check the code: request list shows open requests)", err)
	case errors.As(err, &ce):
		return &hintError{err, fmt.Sprintf("ask %s or an admin to hand it over: request assign %s %s", ce.Owner, ce.Code, t.c.Name)}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONList prints list as a JSON array with one element a line: as easy to read and grep
// as the table, and a third of the cost of indenting every field (request list of a busy desk).
// add appends one element (appendJSON: as json.Marshal writes it); the array leaves in writes
// of about outputBuffer, so a long list is never held whole.
func writeJSONList[T any](w io.Writer, list []T, add func([]byte, T) ([]byte, error)) error {
	buf := make([]byte, 0, outputBuffer+outputBuffer/4)
	buf = append(buf, '[')
	for i, v := range list {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n  "...)
		var err error
		if buf, err = add(buf, v); err != nil {
			return err
		}
		if len(buf) >= outputBuffer {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(list) > 0 {
		buf = append(buf, '\n')
	}
	buf = append(buf, "]\n"...)
	_, err := w.Write(buf)
	return err
}

// appendJSON appends v as json.Marshal writes it.
func appendJSON[T any](buf []byte, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(buf, b...), err
}

// clip bounds a peer-chosen string before it is logged.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
