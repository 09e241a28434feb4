package viewer

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/rdp"
)

// Framebuffer opens the framebuffer channel and does the protocol's handshake.
func (s *Session) Framebuffer(inFlight int) (*rdp.FramebufferClient, error) {
	ch, reqs, err := s.OpenChannel(rdp.FramebufferChannel, nil)
	if err != nil {
		return nil, s.explain(ChannelError("the screen", err))
	}
	go ssh.DiscardRequests(reqs)
	fb, err := rdp.NewFramebufferClient(ch, inFlight)
	if err != nil {
		ch.Close()
		return nil, fmt.Errorf("screen: %w", err)
	}
	return fb, nil
}

// explain adds the gateway's reason when the session ended under a failing call.
func (s *Session) explain(err error) error {
	select {
	case <-s.Ended():
		return fmt.Errorf("%w (session ended: %s)", err, s.EndReason())
	default:
		return err
	}
}

// Snapshot takes one full frame of monitor (-1: the whole virtual screen) and writes it as PNG.
func Snapshot(ctx context.Context, s *Session, monitor int, path string) error {
	fb, err := s.Framebuffer(1)
	if err != nil {
		return err
	}
	defer fb.Close()
	if monitor >= 0 {
		if err := fb.SelectMonitor(monitor); err != nil {
			return err
		}
	}
	if _, err := fb.Next(ctx); err != nil {
		return s.explain(fmt.Errorf("screen: %w", err))
	}
	r := fb.Bounds()
	if monitor >= 0 {
		r = fb.Monitors()[monitor].Bounds()
	}
	img := image.NewRGBA(r)
	fb.CopyTo(img)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return f.Close()
}

// Trace pulls updates without showing them and writes one JSON line per update received
// (arrival time, rectangles with encoding and bytes) until ctx ends or the session does.
func Trace(ctx context.Context, s *Session, monitor, inFlight int, w io.Writer) error {
	fb, err := s.Framebuffer(inFlight)
	if err != nil {
		return err
	}
	defer fb.Close()
	if monitor >= 0 {
		if err := fb.SelectMonitor(monitor); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	for {
		u, err := fb.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return s.explain(fmt.Errorf("screen: %w", err))
		}
		if err := enc.Encode(u); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
	}
}
