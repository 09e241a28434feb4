package commands

import (
	"bytes"
	"strings"

	"github.com/spf13/cobra"
)

// HelpPages is the --help of every command, as program shows it: keyed by the command's path
// below the root ("" for the root, "request list").
func HelpPages(program string) map[string]string {
	pages := map[string]string{}
	var walk func(path []string, c *cobra.Command)
	walk = func(path []string, c *cobra.Command) {
		pages[strings.Join(path, " ")] = helpPage(program, path)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(append(path[:len(path):len(path)], sub.Name()), sub)
			}
		}
	}
	walk(nil, newTree(Env{}, Caller{}, nil, nil, nil))
	return pages
}

// helpPage runs "path… --help" on a fresh tree named program. Help never runs a command, so
// the tree needs no gateway.
func helpPage(program string, path []string) string {
	var out bytes.Buffer
	root := newTree(Env{}, Caller{}, strings.NewReader(""), &out, &out)
	root.Use = program
	root.SetArgs(append(append([]string(nil), path...), "--help"))
	root.Execute()
	return out.String()
}
