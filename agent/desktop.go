package agent

import (
	"context"
	"io"
	"log/slog"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent/internal/xdesktop"
	"github.com/assistkit/assist/rdp"
	"github.com/assistkit/assist/tickets"
)

// Desktop is the person's screen and input, as the desktop routes serve them.
type Desktop interface {
	rdp.Screen
	rdp.Injector
}

// OpenDesktop opens the X display (empty means $DISPLAY), failing with a clear error when there
// is none — before anything could reach code that would crash without one.
func OpenDesktop(display string, log *slog.Logger) (Desktop, io.Closer, error) {
	d, err := xdesktop.Open(display, log)
	if err != nil {
		return nil, nil, err
	}
	return d, d, nil
}

// inputReleaser is a Desktop that can let go of every key and button it pressed.
type inputReleaser interface{ ReleaseInput() }

// DesktopRoutes serve the screen to sessions the person let see it, and input to sessions the
// person let control it.
func DesktopRoutes(d Desktop, log *slog.Logger) map[string]Route {
	return map[string]Route{
		rdp.FramebufferChannel: {Need: tickets.GrantView, Service: ServiceFunc(func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, _ tickets.Grant) {
			go ssh.DiscardRequests(reqs)
			if err := rdp.ServeFramebuffer(ctx, ch, d, rdp.FramebufferOptions{Logger: log}); err != nil {
				log.Info("framebuffer ended", "err", err)
			}
		})},
		rdp.InputChannel: {Need: tickets.GrantView | tickets.GrantControl, Service: ServiceFunc(func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, g tickets.Grant) {
			go ssh.DiscardRequests(reqs)
			// Both the gateway and this route checked the grant; ViewOnly is a third lock.
			err := rdp.ServeInput(ctx, ch, d, rdp.InputOptions{Logger: log, ViewOnly: !g.Allows(tickets.GrantControl)})
			if r, ok := d.(inputReleaser); ok {
				r.ReleaseInput() // never leave a key or button held down when the technician goes
			}
			if err != nil {
				log.Info("input ended", "err", err)
			}
		})},
	}
}
