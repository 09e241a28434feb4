package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/harness/testenv"
)

// TestMain lets the scripts run assist as a program: the test binary re-executes itself as
// assist, through the same cli.Run that main uses.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"assist": func() { os.Exit(cli.Run(newRootCommand(), os.Args[1:], os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar with the commands testenv adds (gateways, agents,
// file checks).
func TestScripts(t *testing.T) { testenv.RunScripts(t, "testdata/script") }
