package protocol

import (
	"strings"
	"testing"
)

func TestParseGrantWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Grant
	}{
		{"deny", 0},
		{"view", GrantView},
		{"control", GrantView | GrantControl},
		{"files", GrantFilesRead | GrantFilesWrite},
		{"files-ro", GrantFilesRead},
		{"full", GrantView | GrantControl | GrantFilesRead | GrantFilesWrite},
		{"view,files-ro", GrantView | GrantFilesRead},
		{" Control , FILES ", GrantView | GrantControl | GrantFilesRead | GrantFilesWrite},
		{"deny,view", GrantView},
	} {
		got, err := ParseGrant(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseGrant(%q) = %b, %v; want %b", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yes", "view,", ",view", "view;control", "files-rw", "viewcontrol"} {
		if g, err := ParseGrant(bad); err == nil {
			t.Errorf("ParseGrant(%q) = %b, want an error", bad, g)
		} else if !strings.Contains(err.Error(), "want deny, view, control, files, files-ro or full") {
			t.Errorf("ParseGrant(%q) error %q does not list the words", bad, err)
		}
	}
}

// TestGrantRoundTrip covers every combination of ParseGrant's words.
func TestGrantRoundTrip(t *testing.T) {
	for mask := 1; mask < 1<<len(grantWords); mask++ {
		var words []string
		for i, gw := range grantWords {
			if mask&(1<<i) != 0 {
				words = append(words, gw.word)
			}
		}
		in := strings.Join(words, ",")
		g, err := ParseGrant(in)
		if err != nil {
			t.Fatalf("ParseGrant(%q): %v", in, err)
		}
		back, err := ParseGrant(g.String())
		if err != nil || back != g {
			t.Errorf("ParseGrant(%q) = %b, String %q, parsed back %b, %v", in, g, g.String(), back, err)
		}
	}
}

func TestGrantString(t *testing.T) {
	for _, tc := range []struct {
		g    Grant
		want string
	}{
		{0, "deny"},
		{GrantView, "view"},
		{GrantView | GrantControl, "control"},
		{GrantView | GrantFilesRead, "view,files-ro"},
		{GrantView | GrantControl | GrantFilesRead | GrantFilesWrite, "control,files"},
		{GrantFilesRead | GrantFilesWrite, "files"},
		// Bits ParseGrant never sets on their own (an agent could still send them) are shown,
		// not dropped: a grant that allows something never prints as "" or "deny".
		{GrantControl, "0x2"},
		{GrantFilesWrite, "0x8"},
		{GrantView | GrantFilesWrite, "view,0x8"},
		{GrantView | 1<<7, "view,0x80"},
	} {
		if got := tc.g.String(); got != tc.want {
			t.Errorf("Grant(%#x).String() = %q, want %q", uint32(tc.g), got, tc.want)
		}
	}
	for g := Grant(1); g < 1<<8; g++ {
		if s := g.String(); s == "" || s == "deny" {
			t.Errorf("Grant(%#x).String() = %q", uint32(g), s)
		}
	}
}

func TestGrantAllows(t *testing.T) {
	full := GrantView | GrantControl | GrantFilesRead | GrantFilesWrite
	for _, tc := range []struct {
		g, want Grant
		ok      bool
	}{
		{full, GrantControl, true},
		{GrantView, GrantView, true},
		{GrantView, GrantControl, false},
		{GrantView, GrantView | GrantControl, false},
		{GrantFilesRead, GrantFilesWrite, false},
		{full, 0, false}, // asking for nothing is never "allowed"
		{0, GrantView, false},
	} {
		if got := tc.g.Allows(tc.want); got != tc.ok {
			t.Errorf("%s.Allows(%s) = %v, want %v", tc.g, tc.want, got, tc.ok)
		}
	}
}

// FuzzParseGrant: what ParseGrant accepts names itself in String's words, which parse back to the
// same grant; what it refuses, it refuses with the list of words.
func FuzzParseGrant(f *testing.F) {
	// The answers a person types at the agent's consent prompt and gives with --consent.
	for _, s := range []string{"deny", "view", "control", "files", "files-ro", "full", "view,files-ro",
		"control,files", " Control , FILES ", "yes", "view,", "files-rw", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGrant(s)
		if err != nil {
			if !strings.Contains(err.Error(), "want deny, view, control, files, files-ro or full") {
				t.Fatalf("ParseGrant(%q): %v does not list the words", s, err)
			}
			return
		}
		back, err := ParseGrant(g.String())
		if err != nil || back != g {
			t.Fatalf("ParseGrant(%q) = %s, which parses back as %s, %v", s, g, back, err)
		}
	})
}
