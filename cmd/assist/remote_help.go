package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// remoteHelpJSON is the gateway's help for the commands assist passes through (sshd.HelpPages
// under the name assist), so that their --help works before login and offline.
// sshd's TestRemoteHelpCurrent keeps it current: go test ./sshd -run TestRemoteHelpCurrent -update
//
//go:embed remote_help.json
var remoteHelpJSON []byte

// remoteHelp is the help page of the passed-through command line args (without assist's login
// flags) when it asks for help, the page of the deepest command it names; ok is false when args
// do not ask for help.
func remoteHelp(args []string) (page string, ok bool) {
	if opts := beforeDashes(args); !slices.Contains(opts, "-h") && !slices.Contains(opts, "--help") {
		return "", false
	}
	words := commandWords(args)
	var pages map[string]string
	if err := json.Unmarshal(remoteHelpJSON, &pages); err != nil {
		panic(fmt.Sprintf("remote_help.json: %v", err)) // embedded and tested: cannot happen
	}
	for n := len(words); n > 0; n-- {
		if p, found := pages[strings.Join(words[:n], " ")]; found {
			return p, true
		}
	}
	return "", false
}

// commandWords are the words of a passed-through command line that are not flags, up to "--":
// the command's path and its arguments (a flag's value among them, which no page is named by).
func commandWords(args []string) []string {
	var words []string
	for _, a := range beforeDashes(args) {
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
	}
	return words
}

// beforeDashes is args up to "--", which ends the options.
func beforeDashes(args []string) []string {
	if i := slices.Index(args, "--"); i >= 0 {
		return args[:i]
	}
	return args
}

// showRemoteHelp writes a passed-through command's page and assist's own login flags.
func showRemoteHelp(w io.Writer, root *cobra.Command, page string) {
	fmt.Fprint(w, page)
	fmt.Fprintf(w, "\nGlobal Flags (how assist reaches the gateway):\n%s", root.PersistentFlags().FlagUsages())
}
