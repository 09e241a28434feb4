package sshd

import "github.com/assistkit/assist/sshd/internal/commands"

// HelpPages is the --help of every technician command, as program shows it: keyed by the
// command's path below the root ("" for the root, "request list"). The assist command passes
// these commands through to the gateway but shows their help itself, offline and under its own
// name, from a copy of these pages that TestRemoteHelpCurrent keeps current (cmd/assist/remote_help.json).
func HelpPages(program string) map[string]string { return commands.HelpPages(program) }
