package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/testenv"
)

// TestMain lets the scripts run assist-agent as a program: the test binary re-executes itself as
// assist-agent, through the same cli.Run that main uses.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"assist-agent": func() { os.Exit(cli.Run(newRootCommand(), os.Args[1:], os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar; testenv.ScriptCommands adds commands that start a
// gateway and agents and check files. XDG_CONFIG_HOME keeps profiles and keys in $WORK.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Cmds:                testenv.ScriptCommands(t),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("XDG_CONFIG_HOME", e.WorkDir+"/config")
			return nil
		},
	})
}
