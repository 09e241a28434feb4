package protocol

import (
	"fmt"
	"strings"
)

// Grant is what the person allowed a technician to do. Zero means denied.
type Grant uint32

const (
	GrantView Grant = 1 << iota
	GrantControl
	GrantFilesRead
	GrantFilesWrite
)

// Allows reports whether every bit of want is granted.
func (g Grant) Allows(want Grant) bool { return want != 0 && g&want == want }

// grantWords are the words ParseGrant accepts, combined with commas ("view,files-ro").
var grantWords = []struct {
	word  string
	grant Grant
}{
	{"deny", 0},
	{"view", GrantView},
	{"control", GrantView | GrantControl},
	{"files", GrantFilesRead | GrantFilesWrite},
	{"files-ro", GrantFilesRead},
	{"full", GrantView | GrantControl | GrantFilesRead | GrantFilesWrite},
}

// ParseGrant reads an answer such as "control", "full", "view,files-ro" or "deny".
func ParseGrant(s string) (Grant, error) {
	var g Grant
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(strings.ToLower(w))
		found := false
		for _, gw := range grantWords {
			if gw.word == w {
				g |= gw.grant
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("consent %q: want deny, view, control, files, files-ro or full, combined with commas", w)
		}
	}
	return g, nil
}

// String names the grant in ParseGrant's words.
func (g Grant) String() string {
	if g == 0 {
		return "deny"
	}
	var parts []string
	var named Grant
	switch {
	case g.Allows(GrantView | GrantControl):
		parts, named = append(parts, "control"), named|GrantView|GrantControl
	case g.Allows(GrantView):
		parts, named = append(parts, "view"), named|GrantView
	}
	switch {
	case g.Allows(GrantFilesRead | GrantFilesWrite):
		parts, named = append(parts, "files"), named|GrantFilesRead|GrantFilesWrite
	case g.Allows(GrantFilesRead):
		parts, named = append(parts, "files-ro"), named|GrantFilesRead
	}
	// Bits no word names (control without view, write without read, unknown bits) can still
	// arrive in a GrantMsg; show them rather than print a grant that allows something as "".
	if rest := g &^ named; rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	return strings.Join(parts, ",")
}
