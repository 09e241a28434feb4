package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// terminal is the person's side on a terminal: prompts, the consent question and notices. One
// goroutine reads lines; a pending question takes the next line, otherwise a line of words is
// said in the chat with the help desk and Enter alone ends sessions.
// A question whose time ran out is taken down, so a late line answers nothing.
type terminal struct {
	out         io.Writer
	interactive bool
	offer       protocol.Grant // what the agent can deliver
	screenWhy   string         // why the screen cannot be shared, or ""

	mu       sync.Mutex
	pending  chan string // the question waiting for the next line, or nil
	controls agent.Controls
	eof      bool
	chatted  bool // the person was told how to answer a chat message
}

var _ agent.Conversation = (*terminal)(nil)

func newTerminal(in io.Reader, out io.Writer, interactive bool, offer protocol.Grant, screenWhy string) *terminal {
	t := &terminal{out: out, interactive: interactive, offer: offer, screenWhy: screenWhy}
	if interactive {
		go t.read(in)
	}
	return t
}

func (t *terminal) read(in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		t.mu.Lock()
		pending, controls := t.pending, t.controls
		t.pending = nil
		t.mu.Unlock()
		switch line := strings.TrimSpace(sc.Text()); {
		case pending != nil:
			pending <- sc.Text()
		case controls == nil:
		case line == "":
			controls.End() // Enter alone ends the sessions
		default: // anything else is said in the chat
			if err := controls.Say(line); err != nil {
				fmt.Fprintf(t.out, "Not sent: %v.\n", err)
			}
		}
	}
	t.mu.Lock()
	t.eof = true
	if t.pending != nil {
		close(t.pending)
		t.pending = nil
	}
	t.mu.Unlock()
}

// question prints prompt and waits for the next line until ctx ends.
func (t *terminal) question(ctx context.Context, prompt string) (string, error) {
	ans := make(chan string, 1)
	t.mu.Lock()
	if t.eof {
		t.mu.Unlock()
		return "", io.EOF
	}
	t.pending = ans
	t.mu.Unlock()
	fmt.Fprint(t.out, prompt)
	select {
	case s, ok := <-ans:
		if !ok {
			return "", io.EOF
		}
		return strings.TrimSpace(s), nil
	case <-ctx.Done():
		t.mu.Lock()
		if t.pending == ans {
			t.pending = nil
		}
		t.mu.Unlock()
		return "", ctx.Err()
	}
}

// Form asks for what the flags did not give, and asks a field again when the gateway's bounds
// refuse it.
func (t *terminal) Form(ctx context.Context, f tickets.Form) (tickets.Form, error) {
	fields := []struct {
		prompt, name string
		dst          *string
	}{{"Your full name", "full name", &f.FullName}, {"Email", "email", &f.Email}, {"Phone", "phone", &f.Phone}, {"What do you need help with", "message", &f.Message}}
	asked := map[string]bool{}
	for {
		if t.interactive {
			for _, q := range fields {
				if *q.dst != "" {
					continue
				}
				s, err := t.question(ctx, q.prompt+": ")
				if err != nil {
					return f, err
				}
				*q.dst, asked[q.name] = s, true
			}
		}
		clean, err := f.Clean()
		var fe *tickets.FieldError
		if err == nil || !errors.As(err, &fe) || !asked[fe.Field] {
			return clean, err
		}
		fmt.Fprintf(t.out, "%v; please try again.\n", err)
		for _, q := range fields {
			if q.name == fe.Field {
				*q.dst = ""
			}
		}
	}
}

// Ask asks the consent question until ctx's deadline, offering only what the agent can deliver.
func (t *terminal) Ask(ctx context.Context, a protocol.ConsentAsk) (protocol.Grant, error) {
	who := a.Technician
	if a.FullName != "" && a.FullName != "?" {
		who = fmt.Sprintf("%s (%s)", a.FullName, a.Technician)
	}
	fmt.Fprintf(t.out, "\nTechnician %s asks to connect to your computer for request %s.\n", who, a.RequestCode)
	if a.Recorded {
		fmt.Fprintln(t.out, "The help desk records this session: your screen, what the technician does and the files moved.")
	}
	if t.screenWhy != "" {
		fmt.Fprintf(t.out, "Your screen cannot be shared (%s); only files can be offered.\n", t.screenWhy)
	}
	if d, ok := ctx.Deadline(); ok {
		fmt.Fprintf(t.out, "Answer within %s.\n", time.Until(d).Round(time.Second))
	}
	choices := consentChoices(t.offer)
	var keys []string
	for _, c := range choices {
		keys = append(keys, c.prompt)
	}
	for {
		s, err := t.question(ctx, "Allow? "+strings.Join(keys, ", ")+": ")
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintln(t.out, "\nNo answer in time: the technician was not let in.")
			return 0, err
		}
		if err != nil {
			return 0, err
		}
		for _, c := range choices {
			if c.matches(s) {
				return c.grant, nil
			}
		}
		fmt.Fprintln(t.out, "Please answer with one of the letters in brackets.")
	}
}

// consentChoice is one answer to the consent question.
type consentChoice struct {
	prompt string
	words  []string
	grant  protocol.Grant
}

func (c consentChoice) matches(s string) bool {
	for _, w := range c.words {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// consentChoices are the answers that offer allows; deny is always one.
func consentChoices(offer protocol.Grant) []consentChoice {
	files := protocol.GrantFilesRead | protocol.GrantFilesWrite
	all := []consentChoice{
		{"[d]eny", []string{"d", "deny", "n", "no"}, 0},
		{"[v]iew only", []string{"v", "view"}, protocol.GrantView},
		{"[c]ontrol", []string{"c", "control"}, protocol.GrantView | protocol.GrantControl},
		{"[f]ull control and files", []string{"f", "full"}, protocol.GrantView | protocol.GrantControl | files},
	}
	if !offer.Allows(protocol.GrantView) {
		all = append(all[:1], consentChoice{"[f]iles", []string{"f", "files"}, files})
	}
	var out []consentChoice
	for _, c := range all {
		if c.grant == 0 || offer.Allows(c.grant) {
			out = append(out, c)
		}
	}
	return out
}

// Show prints what happens.
func (t *terminal) Show(e agent.Event) {
	t.mu.Lock()
	t.controls = e.Controls
	t.mu.Unlock()
	switch e.Kind {
	case agent.EventFiled:
		if e.Resumed {
			fmt.Fprintf(t.out, "Connected again. Your request code is still %s.\n", e.Code)
			return
		}
		fmt.Fprintf(t.out, "Your request code is %s. Read it to the technician when they call.\nWaiting for a technician… (Ctrl-C withdraws the request)\n", e.Code)
		if t.screenWhy != "" {
			fmt.Fprintf(t.out, "Your screen cannot be shared (%s); the help desk can still work with your files.\n", t.screenWhy)
		}
	case agent.EventDisconnected:
		fmt.Fprintf(t.out, "Lost the connection to the help desk (%v); trying again…\n", e.Err)
	case agent.EventSessionStarted:
		fmt.Fprintf(t.out, "%s is connected (%s).", e.Session.Technician, describe(e.Session.Grant))
		if t.interactive {
			fmt.Fprint(t.out, " Press Enter to end the session.")
		}
		fmt.Fprintln(t.out)
	case agent.EventSessionChanged:
		fmt.Fprintf(t.out, "%s now %s.\n", e.Session.Technician, describe(e.Session.Grant))
	case agent.EventSessionEnded:
		var why *agent.GatewayEndError
		if errors.As(e.Err, &why) {
			fmt.Fprintf(t.out, "The session with %s ended: %s.\n", e.Session.Technician, why.Reason)
			return
		}
		fmt.Fprintf(t.out, "The session with %s ended.\n", e.Session.Technician)
	case agent.EventChat:
		fmt.Fprintf(t.out, "%s says: %s\n", e.Chat.From, e.Chat.Text)
		t.mu.Lock()
		first := !t.chatted
		t.chatted = true
		t.mu.Unlock()
		if t.interactive && first {
			fmt.Fprintln(t.out, "(To answer, type a line and press Enter.)")
		}
	case agent.EventSessionLimit:
		if e.Session.EndsIn == 0 {
			fmt.Fprintf(t.out, "The session with %s goes on.\n", e.Session.Technician)
			return
		}
		fmt.Fprintf(t.out, "The session with %s ends in %s (%s).\n", e.Session.Technician, e.Session.EndsIn.Round(time.Second), e.Session.EndsWhy)
	case agent.EventEnded:
		switch {
		case errors.Is(e.Err, agent.ErrWithdrawn):
			fmt.Fprintln(t.out, "Your request is withdrawn. Goodbye.")
		case errors.Is(e.Err, agent.ErrRequestClosed):
			fmt.Fprintln(t.out, "The help desk closed your request. Goodbye.")
		}
	}
}

func describe(g protocol.Grant) string {
	switch {
	case g.Allows(protocol.GrantControl | protocol.GrantFilesWrite):
		return "can see and control your screen and move files"
	case g.Allows(protocol.GrantControl):
		return "can see and control your screen"
	case g.Allows(protocol.GrantView):
		return "can see your screen"
	case g.Allows(protocol.GrantFilesRead | protocol.GrantFilesWrite):
		return "can move files"
	}
	return "allowed: " + g.String()
}

// presetConsent answers every technician with the same grant, for unattended use and the demo.
type presetConsent struct {
	grant protocol.Grant
	out   io.Writer
}

func (p presetConsent) Ask(_ context.Context, a protocol.ConsentAsk) (protocol.Grant, error) {
	fmt.Fprintf(p.out, "Technician %s asked to connect; answered %s (--consent).\n", a.Technician, p.grant)
	return p.grant, nil
}
