package commands

import (
	"slices"
	"strings"
	"testing"
)

// quoteLikeClients quotes as assist's viewer.Run does: every word in single quotes, and a
// single quote inside it closed, escaped and reopened. OpenSSH users type the same by hand.
func quoteLikeClients(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		line string
		want []string
	}{
		{"request list --json", []string{"request", "list", "--json"}},
		{"  request\tlist  \n", []string{"request", "list"}},
		{`request show 'K7QH-4ZPD'`, []string{"request", "show", "K7QH-4ZPD"}},
		{`user add bob --key "ssh-ed25519 AAAA bob@host"`, []string{"user", "add", "bob", "--key", "ssh-ed25519 AAAA bob@host"}},
		{`a 'it'\''s' "say \"hi\"" back\ slash`, []string{"a", "it's", `say "hi"`, "back slash"}},
		{`'' ""`, []string{"", ""}},
		{`'$(rm -rf /)' ;ls`, []string{"$(rm -rf /)", ";ls"}},
		{`'a\b'`, []string{`a\b`}},
		{"", nil},
	}
	for _, c := range cases {
		got, err := splitArgs(c.line)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", c.line, got, err, c.want)
		}
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`, strings.Repeat("x", 64<<10+1)} {
		if got, err := splitArgs(bad); err == nil {
			t.Errorf("splitArgs(%.20q…) = %q, want an error", bad, got)
		}
	}
}

// FuzzSplitArgs: splitting never panics, and what it splits, quoted the way clients quote,
// splits back to the same words.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{"request list --json", `request show 'K7QH-4ZPD'`, `a 'it'\''s' "say \"hi\""`,
		`user add bob --key -`, "'\x00'", `"\`, "\t\n ", `'' ""`, "\xff\xfe", "request otc K7QH-4ZPD --ttl 5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args, err := splitArgs(line)
		if err != nil {
			return
		}
		again, err := splitArgs(quoteLikeClients(args))
		if err != nil {
			t.Fatalf("re-split of %q: %v", args, err)
		}
		if !slices.Equal(args, again) {
			t.Fatalf("splitArgs(%q) = %q, but quoted back it splits to %q", line, args, again)
		}
	})
}
