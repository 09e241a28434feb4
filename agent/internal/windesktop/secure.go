package windesktop

import (
	"errors"
	"strings"
)

// ErrSecureDesktop is what a capture returns while the input desktop is not the person's own: a
// UAC prompt, the lock screen or the Ctrl+Alt+Del screen (the Winlogon desktop), which no
// ordinary process may read. Capturing anyway gives a black or a stale picture; the viewer is
// told this instead.
var ErrSecureDesktop = errors.New("the person's screen is on a secure desktop (a UAC prompt, the lock screen or Ctrl+Alt+Del)")

// inputDesktopErr judges what OpenInputDesktop and GetUserObjectInformation(UOI_NAME) said: the
// person's desktop is the one this process runs on (own; "Default" when unknown), which is
// "Default" on an ordinary Windows session and the virtual desktop's name under Wine's
// explorer /desktop. Any other name (Winlogon, Screen-saver), or being refused the input
// desktop at all, is the secure desktop.
func inputDesktopErr(name, own string, openErr error) error {
	if own == "" {
		own = "Default"
	}
	if openErr != nil || !strings.EqualFold(name, own) {
		return ErrSecureDesktop
	}
	return nil
}

// toWindowsText gives text Windows' line ends (CRLF), which the clipboard's readers expect.
func toWindowsText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// fromWindowsText gives Windows text the viewer's line ends (LF).
func fromWindowsText(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
