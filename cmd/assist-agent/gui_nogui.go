//go:build nogui

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/protocol"
)

// openGUI: this build has the terminal only (go build -tags nogui).
func openGUI(string, protocol.Grant, string, *slog.Logger, *slog.Logger) (agent.Conversation, func(context.Context), func(), error) {
	return nil, nil, nil, errors.New("this assist-agent was built without windows (-tags nogui)")
}

func isWindowClosed(error) bool { return false }
