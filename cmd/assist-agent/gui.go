//go:build !nogui

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/agent/gui"
	"github.com/assistkit/assist/protocol"
)

// openGUI opens the app's window. wait blocks until the person closed it (or ctx ends), so the
// last words stay on screen after the agent stopped; closeAll takes the windows down.
func openGUI(gateway string, offer protocol.Grant, screenWhy string, log, trace *slog.Logger) (conv agent.Conversation, wait func(context.Context), closeAll func(), err error) {
	g, err := gui.New(gui.Options{Gateway: gateway, Offer: offer, ScreenWhy: screenWhy, Logger: log, Trace: trace})
	if err != nil {
		return nil, nil, nil, err
	}
	wait = func(ctx context.Context) {
		select {
		case <-g.Closed():
		case <-ctx.Done():
		}
	}
	return g, wait, g.Close, nil
}

func isWindowClosed(err error) bool { return errors.Is(err, gui.ErrClosed) }
