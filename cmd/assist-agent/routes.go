package main

import (
	"fmt"
	"io"
	"log/slog"
	"maps"

	"github.com/assistkit/assist/agent"
)

// routes are the services this agent offers: files always, the screen and input when the
// display can be opened (without one the person can still be helped with files).
func routes(display string, logger *slog.Logger, warn io.Writer) (map[string]agent.Route, func(), error) {
	r := map[string]agent.Route{"session": agent.FilesRoute(logger)}
	d, closer, err := agent.OpenDesktop(display, logger)
	if err != nil {
		fmt.Fprintf(warn, "assist-agent: screen sharing is unavailable: %v\n", err)
		return r, func() {}, nil
	}
	maps.Copy(r, agent.DesktopRoutes(d, logger))
	return r, func() { closer.Close() }, nil
}
