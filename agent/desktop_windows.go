package agent

import (
	"io"
	"log/slog"

	"github.com/assistkit/assist/agent/internal/windesktop"
)

// OpenDesktop opens the interactive Windows desktop of the session the agent runs in; display
// is X11's and means nothing here.
func OpenDesktop(_ string, log *slog.Logger) (Desktop, io.Closer, error) {
	d, err := windesktop.Open(log)
	if err != nil {
		return nil, nil, err
	}
	return d, d, nil
}

// ScreenUnavailable says in a few words why this agent cannot share the screen, or "" when it
// may try. On Windows a program the person started always has their desktop, so it may.
func ScreenUnavailable(string, func(string) string) string { return "" }
