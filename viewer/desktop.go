package viewer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
)

// Framebuffer opens the framebuffer channel and does the protocol's handshake.
func (s *Session) Framebuffer(inFlight int) (*rdp.FramebufferClient, error) {
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
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

// Input opens the input channel and does the protocol's handshake. A view-only session's client
// says so (ViewOnly) instead of failing.
func (s *Session) Input() (*rdp.InputClient, error) {
	ch, reqs, err := s.OpenChannel(protocol.InputChannel, nil)
	if err != nil {
		return nil, s.explain(ChannelError("control", err))
	}
	go ssh.DiscardRequests(reqs)
	ic, err := rdp.NewInputClient(ch)
	if err != nil {
		ch.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	return ic, nil
}

// explain adds the gateway's reason when the session ended under a failing call.
//
// A channel that failed with EOF failed because the connection closed; the gateway's reason
// for closing it, sent just before, may still be on its way through the connection's request
// loop, which ends the session at the latest when it sees the connection gone: explain waits
// for that.
func (s *Session) explain(err error) error {
	if errors.Is(err, io.EOF) {
		select {
		case <-s.Ended():
		case <-time.After(5 * time.Second):
		}
	}
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
