//go:build !windows && !darwin

package main

import (
	"strings"
	"testing"
)

func TestMimeappsEdits(t *testing.T) {
	for _, c := range []struct {
		name, in, removed, set string
	}{
		{"empty", "", "", "[Default Applications]\napplication/x-assist-otc=assist.desktop\n"},
		{"ours only",
			"[Default Applications]\napplication/x-assist-otc=assist.desktop\n",
			"[Default Applications]\n",
			"[Default Applications]\napplication/x-assist-otc=assist.desktop\n"},
		{"shared list keeps the others",
			"# mine\n[Added Associations]\napplication/x-assist-otc=other.desktop;assist.desktop;\ntext/plain=ed.desktop\n",
			"# mine\n[Added Associations]\napplication/x-assist-otc=other.desktop;\ntext/plain=ed.desktop\n",
			"# mine\n[Added Associations]\napplication/x-assist-otc=other.desktop;\ntext/plain=ed.desktop\n[Default Applications]\napplication/x-assist-otc=assist.desktop\n"},
		{"no final newline",
			"[Default Applications]\ntext/plain=ed.desktop",
			"[Default Applications]\ntext/plain=ed.desktop",
			"[Default Applications]\napplication/x-assist-otc=assist.desktop\ntext/plain=ed.desktop"},
	} {
		if got := string(removeDefault([]byte(c.in))); got != c.removed {
			t.Errorf("%s: removeDefault =\n%q\nwant\n%q", c.name, got, c.removed)
		}
		if got := string(setDefaultLine([]byte(c.in))); got != c.set {
			t.Errorf("%s: setDefaultLine =\n%q\nwant\n%q", c.name, got, c.set)
		}
	}
}

// FuzzMimeappsEdits: whatever a mimeapps.list holds, the edits touch only our type's lines,
// leave assist set exactly once (install) or not at all (uninstall), and are idempotent.
func FuzzMimeappsEdits(f *testing.F) {
	for _, s := range []string{
		"",
		"[Default Applications]\ntext/plain=ed.desktop\n",
		"[Added Associations]\napplication/x-assist-otc=a.desktop;assist.desktop;\n[Default Applications]\napplication/x-assist-otc=assist.desktop\n",
		"application/x-assist-otc =  assist.desktop ; ;\r\n[Default Applications]",
		"=\n==\n[\n]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		removed := string(removeDefault([]byte(in)))
		if again := string(removeDefault([]byte(removed))); again != removed {
			t.Fatalf("removeDefault not idempotent on %q", in)
		}
		if ours(removed) != 0 {
			t.Fatalf("removeDefault(%q) = %q still names assist", in, removed)
		}
		if got, want := othersOf(removed), othersOf(in); got != want {
			t.Fatalf("removeDefault(%q) changed other lines: %q, want %q", in, got, want)
		}
		set := string(setDefaultLine([]byte(in)))
		if n := ours(set); n != 1 {
			t.Fatalf("setDefaultLine(%q) = %q names assist %d times, want once", in, set, n)
		}
		if again := string(setDefaultLine([]byte(set))); again != set {
			t.Fatalf("setDefaultLine not idempotent on %q:\n%q\n%q", in, set, again)
		}
	})
}

// ours counts the lines that give our type to assist.desktop.
func ours(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		key, value, ok := strings.Cut(strings.TrimRight(line, "\r"), "=")
		if ok && strings.TrimSpace(key) == otcMIMEType {
			for _, app := range strings.Split(value, ";") {
				if strings.TrimSpace(app) == desktopFileName {
					n++
				}
			}
		}
	}
	return n
}

// othersOf is s without our type's lines.
func othersOf(s string) string {
	var keep []string
	for _, line := range splitLines([]byte(s)) {
		key, _, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "=")
		if !ok || strings.TrimSpace(key) != otcMIMEType {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}
