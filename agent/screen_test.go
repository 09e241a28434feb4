//go:build !windows

package agent

import "testing"

func TestScreenUnavailable(t *testing.T) {
	for _, tc := range []struct {
		display string
		env     map[string]string
		want    string
	}{
		{":0", map[string]string{"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, ""},
		{"", map[string]string{"XDG_SESSION_TYPE": "tty"}, "no display"},
		{"", map[string]string{"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "Wayland session"},
		{":0", map[string]string{"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "Wayland session"},
		{":0", map[string]string{"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "Wayland session"},             // no session type: the compositor's variable decides
		{":0", map[string]string{"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, ""}, // a compositor nested in X
		{":5", map[string]string{"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, ""},                             // another X server, named on purpose
	} {
		if got := ScreenUnavailable(tc.display, func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("ScreenUnavailable(%q, %v) = %q, want %q", tc.display, tc.env, got, tc.want)
		}
	}
}
