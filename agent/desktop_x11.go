//go:build !windows

package agent

import (
	"io"
	"log/slog"

	"github.com/assistkit/assist/agent/internal/xdesktop"
)

// OpenDesktop opens the X display (empty means $DISPLAY), failing with a clear error when there
// is none — before anything could reach code that would crash without one.
func OpenDesktop(display string, log *slog.Logger) (Desktop, io.Closer, error) {
	d, err := xdesktop.Open(display, log)
	if err != nil {
		return nil, nil, err
	}
	return d, d, nil
}

// ScreenUnavailable says in a few words why this agent cannot share display, or "" when it may
// try: no display at all, or a Wayland session, whose X display (XWayland) shows only the X
// programs and a black desktop. getenv is os.Getenv outside tests.
func ScreenUnavailable(display string, getenv func(string) string) string {
	session := getenv("XDG_SESSION_TYPE")
	wayland := session == "wayland" || session == "" && getenv("WAYLAND_DISPLAY") != ""
	switch {
	case wayland && display == getenv("DISPLAY"): // the session's own display, or none
		return "Wayland session"
	case display == "":
		return "no display"
	}
	return ""
}
