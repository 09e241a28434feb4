package main

import (
	"log/slog"
	"maps"
	"os"

	"github.com/assistkit/assist/agent"
)

// routes are the services this agent offers: files always, the screen and input when the
// display can be opened (without one the person can still be helped with files). why says, in
// words for the person and the technician, why the screen cannot be shared.
func routes(display string, logger *slog.Logger) (r map[string]agent.Route, why string, closer func()) {
	r = map[string]agent.Route{"session": agent.FilesRoute(logger)}
	if why = agent.ScreenUnavailable(display, os.Getenv); why != "" {
		return r, why, func() {}
	}
	d, c, err := agent.OpenDesktop(display, logger)
	if err != nil {
		logger.Info("screen sharing unavailable", "display", display, "err", err)
		return r, "can't open display " + display, func() {}
	}
	maps.Copy(r, agent.DesktopRoutes(d, logger))
	return r, "", func() { c.Close() }
}
