package sshd_test

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/assistkit/assist/sshd"
)

var update = flag.Bool("update", false, "rewrite cmd/assist/remote_help.json from the command tree")

// remoteHelpFile is the copy of the help pages that the assist command shows offline for the
// command groups it passes through.
const remoteHelpFile = "../cmd/assist/remote_help.json"

// TestRemoteHelpCurrent: the help assist shows offline for request, user and audit is this
// tree's own, under the name assist. A change to the tree fails here until the copy is rewritten.
func TestRemoteHelpCurrent(t *testing.T) {
	want := map[string]string{}
	for path, page := range sshd.HelpPages("assist") {
		first, _, _ := strings.Cut(path, " ")
		if first == "request" || first == "user" || first == "audit" || first == "recording" {
			want[path] = page
		}
	}
	data, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.WriteFile(remoteHelpFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(remoteHelpFile)
	if err != nil || string(have) != string(data) {
		t.Fatalf("%s (%v) differs from the command tree: go test ./sshd -run TestRemoteHelpCurrent -update", remoteHelpFile, err)
	}
}
