package windesktop

import (
	"errors"
	"testing"
)

func TestInputDesktopErr(t *testing.T) {
	for _, c := range []struct {
		name, own string
		err       error
		secure    bool
	}{
		{"Default", "Default", nil, false},
		{"default", "Default", nil, false},
		{"Default", "", nil, false},
		{"Winlogon", "Default", nil, true},
		{"Screen-saver", "Default", nil, true},
		{"", "Default", errors.New("Access is denied."), true},
		{"assist-modes", "assist-modes", nil, false}, // a Wine virtual desktop
		{"Winlogon", "assist-modes", nil, true},
		{"Default", "assist-modes", nil, true}, // input went to another desktop than the agent's
	} {
		if got := inputDesktopErr(c.name, c.own, c.err); (got != nil) != c.secure || (got != nil && !errors.Is(got, ErrSecureDesktop)) {
			t.Errorf("inputDesktopErr(%q, %q, %v) = %v", c.name, c.own, c.err, got)
		}
	}
}

func TestWindowsText(t *testing.T) {
	for in, want := range map[string]string{"a\nb": "a\r\nb", "a\r\nb": "a\r\nb", "x": "x", "\n\n": "\r\n\r\n"} {
		if got := toWindowsText(in); got != want {
			t.Errorf("toWindowsText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := fromWindowsText("a\r\nb\r\n"); got != "a\nb\n" {
		t.Errorf("fromWindowsText = %q", got)
	}
}
