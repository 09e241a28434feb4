package main

import (
	"log/slog"

	"github.com/assistkit/assist/agent"
)

// routes are the services this agent offers: files always; the desktop once wired.
func routes(display string, logger *slog.Logger) (map[string]agent.Route, func(), error) {
	r := map[string]agent.Route{"session": agent.FilesRoute(logger)}
	return r, func() {}, nil
}
