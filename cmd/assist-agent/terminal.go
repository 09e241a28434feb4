package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/tickets"
)

// terminal is the person's side: prompts, the consent question and session notices. One
// goroutine reads lines; a pending question takes the next line, otherwise Enter ends sessions.
type terminal struct {
	out         io.Writer
	interactive bool
	answers     chan string

	mu      sync.Mutex
	waiting bool   // a question is waiting for the next line
	onEnter func() // what Enter does outside a question
}

func newTerminal(in io.Reader, out io.Writer, interactive bool) *terminal {
	t := &terminal{out: out, interactive: interactive, answers: make(chan string)}
	if interactive {
		go t.read(in)
	}
	return t
}

func (t *terminal) read(in io.Reader) {
	defer close(t.answers)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		t.mu.Lock()
		waiting, onEnter := t.waiting, t.onEnter
		t.mu.Unlock()
		switch {
		case waiting:
			t.answers <- sc.Text()
		case onEnter != nil:
			onEnter()
		}
	}
}

func (t *terminal) ask(prompt string) string {
	t.mu.Lock()
	t.waiting = true
	t.mu.Unlock()
	defer func() { t.mu.Lock(); t.waiting = false; t.mu.Unlock() }()
	fmt.Fprint(t.out, prompt)
	return strings.TrimSpace(<-t.answers)
}

// Ask asks the consent question.
func (t *terminal) Ask(ctx context.Context, a tickets.ConsentAsk) (tickets.Grant, error) {
	who := a.Technician
	if a.FullName != "" {
		who = fmt.Sprintf("%s (%s)", a.FullName, a.Technician)
	}
	fmt.Fprintf(t.out, "\nTechnician %s asks to connect to your computer for request %s.\n", who, a.RequestCode)
	for {
		answer := make(chan string, 1)
		go func() { answer <- t.ask("Allow? [d]eny, [v]iew only, [c]ontrol, [f]ull control and files: ") }()
		var s string
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case s = <-answer:
		}
		switch strings.ToLower(s) {
		case "d", "deny", "n", "no":
			return 0, nil
		case "v", "view":
			return tickets.GrantView, nil
		case "c", "control":
			return tickets.GrantView | tickets.GrantControl, nil
		case "f", "full":
			return tickets.GrantView | tickets.GrantControl | tickets.GrantFilesRead | tickets.GrantFilesWrite, nil
		}
		fmt.Fprintln(t.out, "Please answer d, v, c or f.")
	}
}

// endOnEnter makes Enter, outside a question, end live sessions.
func (t *terminal) endOnEnter(end func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.onEnter = end
}

// event prints what happens.
func (t *terminal) event(e agent.Event, a *agent.Agent) {
	switch e.Kind {
	case agent.EventFiled:
		if e.Resumed {
			fmt.Fprintf(t.out, "Connected again. Your request code is still %s.\n", e.Code)
			return
		}
		fmt.Fprintf(t.out, "Your request code is %s. Read it to the technician when they call.\nWaiting for a technician… (Ctrl-C withdraws the request)\n", e.Code)
	case agent.EventDisconnected:
		fmt.Fprintf(t.out, "Lost the connection to the help desk (%v); trying again…\n", e.Err)
	case agent.EventSessionStarted:
		fmt.Fprintf(t.out, "%s is connected (%s).", e.Session.Technician, describe(e.Session.Grant))
		if t.interactive {
			fmt.Fprint(t.out, " Press Enter to end the session.")
		}
		fmt.Fprintln(t.out)
	case agent.EventSessionEnded:
		fmt.Fprintf(t.out, "The session with %s ended.\n", e.Session.Technician)
	}
}

func describe(g tickets.Grant) string {
	switch {
	case g.Allows(tickets.GrantControl | tickets.GrantFilesWrite):
		return "can see and control your screen and move files"
	case g.Allows(tickets.GrantControl):
		return "can see and control your screen"
	case g.Allows(tickets.GrantView):
		return "can see your screen"
	}
	return "allowed: " + g.String()
}

// presetConsent answers every technician with the same grant, for unattended use and the demo.
type presetConsent struct {
	grant tickets.Grant
	out   io.Writer
}

func (p presetConsent) Ask(_ context.Context, a tickets.ConsentAsk) (tickets.Grant, error) {
	fmt.Fprintf(p.out, "Technician %s asked to connect; answered %s (--consent).\n", a.Technician, p.grant)
	return p.grant, nil
}
