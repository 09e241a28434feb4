package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
)

// askPassword: when the passed-through command line sets a help-desk web password ("user passwd
// [NAME]", "user add … --password-stdin") and stdin is a terminal, it asks for the password
// twice without echo (prompts on prompt) and returns what the gateway then reads on its standard
// input. Otherwise stdin goes through unchanged, so scripts still pipe the password in.
func askPassword(args []string, self string, stdin io.Reader, prompt io.Writer) (io.Reader, error) {
	who, ok := passwordFor(args, self)
	if !ok {
		return stdin, nil
	}
	f, isFile := stdin.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return stdin, nil
	}
	read := func(label string) (string, error) {
		fmt.Fprint(prompt, label)
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(p), nil
	}
	p, err := read(fmt.Sprintf("New help-desk web password for %s: ", who))
	if err != nil {
		return nil, err
	}
	if len(p) < tickets.MinPasswordLen {
		return nil, cli.WithHint(fmt.Errorf("password too short: %d characters, want at least %d; nothing was changed", len(p), tickets.MinPasswordLen),
			"a few unrelated words make a long password that is easy to type")
	}
	again, err := read("Repeat it: ")
	if err != nil {
		return nil, err
	}
	if again != p {
		return nil, cli.WithHint(errors.New("the two passwords differ; nothing was changed"), "run the command again and type the same password twice")
	}
	return strings.NewReader(p + "\n"), nil
}

// passwordFor says whose password args set, if they set one.
func passwordFor(args []string, self string) (who string, ok bool) {
	words := commandWords(args)
	if len(words) < 2 || words[0] != "user" {
		return "", false
	}
	switch {
	case words[1] == "passwd" && len(words) > 2:
		return words[2], true
	case words[1] == "passwd":
		return self, true
	case words[1] == "add" && slices.Contains(args, "--password-stdin"):
		return "the new account", true
	}
	return "", false
}
