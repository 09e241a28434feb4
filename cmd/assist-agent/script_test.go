package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/harness/testenv"
)

// TestMain lets the scripts run assist-agent as a program: the test binary re-executes itself as
// assist-agent, through the same cli.Run that main uses.
func TestMain(m *testing.M) {
	if os.Getenv(runAsAgent) == "1" { // started by a test as the program itself
		os.Exit(cli.Run(newRootCommand(), os.Args[1:], os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"assist-agent": func() { os.Exit(cli.Run(newRootCommand(), os.Args[1:], os.Stderr)) },
	})
}

// runAsAgent in the environment makes the test binary run as assist-agent.
const runAsAgent = "ASSIST_AGENT_TEST_RUN_AS_AGENT"

// TestScripts runs testdata/script/*.txtar with the commands testenv adds (gateways, agents,
// file checks).
func TestScripts(t *testing.T) { testenv.RunScripts(t, "testdata/script") }
