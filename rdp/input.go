package rdp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// InputOptions tune ServeInput. The zero value is ready to use.
type InputOptions struct {
	Logger *slog.Logger
	// ViewOnly refuses every event: the first one gets the viewer a close with the reason.
	ViewOnly bool
	// ClipboardInterval is how often the clipboard is read to report changes to the viewer, if
	// the Injector implements Clipboard. Default 1 s; negative: only when the viewer asks.
	ClipboardInterval time.Duration
}

// viewOnlyReason is what a view-only viewer is told.
const viewOnlyReason = "input refused: the person allowed viewing only"

// ServeInput serves the agent's side of the input channel until the viewer closes it (nil), ctx
// ends, or an error. Events go to inj in order; an error injecting one event is logged and the
// channel goes on. If inj also implements Clipboard, the viewer may set the clipboard and is
// told when it changes.
//
// rw is the channel; like ServeFramebuffer, ServeInput closes it if it can be closed.
func ServeInput(ctx context.Context, rw io.ReadWriter, inj Injector, opts InputOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ClipboardInterval == 0 {
		opts.ClipboardInterval = time.Second
	}
	c := newConn(rw)
	defer c.close()
	stop := context.AfterFunc(ctx, c.close)
	defer stop()

	s := &inputServer{c: c, inj: inj, log: opts.Logger}
	s.clip, _ = inj.(Clipboard)
	var caps uint64
	if !opts.ViewOnly {
		caps |= wire.CapControl
		if s.clip != nil {
			caps |= wire.CapClipboard
		}
		if sa, ok := inj.(SecureAttention); ok && sa.SecureAttentionKeys() {
			caps |= wire.CapSAS
		}
	}
	if _, err := c.handshake(wire.KindInput, caps, false); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var pe *protocolError
		if errors.As(err, &pe) {
			c.sendClose(wire.CloseProtocol, pe.Error())
		}
		return err
	}
	if opts.ViewOnly {
		s.clip = nil
	}
	if s.clip != nil && opts.ClipboardInterval > 0 {
		s.last, _ = s.clip.ReadClipboard() // the viewer hears of changes from now on
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.watchClipboard(ctx, opts.ClipboardInterval)
	}
	err := s.readLoop(opts.ViewOnly)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

type inputServer struct {
	c    *conn
	inj  Injector
	clip Clipboard
	log  *slog.Logger

	mu      sync.Mutex
	last    string // clipboard text the viewer has or set
	lastErr string // the last injection error logged, to not repeat it per event
}

func (s *inputServer) readLoop(viewOnly bool) error {
	for {
		m, err := s.c.read()
		if err != nil {
			var pe *protocolError
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case errors.As(err, &pe):
				s.c.sendClose(wire.CloseProtocol, pe.Error())
			}
			return err
		}
		if cl, ok := m.(*wire.Close); ok {
			s.log.Debug("viewer closed the input channel", "reason", cl.Reason)
			return nil
		}
		if viewOnly {
			s.log.Info("refused input on a view-only session", "event", m.Type().String())
			s.c.sendClose(wire.CloseViewOnly, viewOnlyReason)
			return nil
		}
		if err := s.handle(m); err != nil {
			s.c.sendClose(wire.CloseProtocol, err.Error())
			return err
		}
	}
}

func (s *inputServer) handle(m wire.Message) error {
	switch m := m.(type) {
	case *wire.Key:
		s.report("key", s.inj.Key(m.Keysym, m.Down))
	case *wire.Pointer:
		s.report("pointer", s.inj.Pointer(int(m.X), int(m.Y), m.Buttons))
	case *wire.Scroll:
		s.report("scroll", s.inj.Scroll(int(m.DX), int(m.DY)))
	case *wire.Text:
		for _, r := range m.Text {
			if ks := RuneKeysym(r); ks != 0 {
				s.report("key", s.inj.Key(ks, true))
				s.report("key", s.inj.Key(ks, false))
			}
		}
	case *wire.Clipboard:
		if s.clip == nil {
			return protocolErrorf("clipboard message, but this agent has no clipboard")
		}
		s.mu.Lock()
		s.last = m.Text
		s.mu.Unlock()
		s.report("clipboard", s.clip.WriteClipboard(m.Text))
	case *wire.ClipboardRequest:
		if s.clip == nil {
			return protocolErrorf("clipboard request, but this agent has no clipboard")
		}
		text, err := s.clip.ReadClipboard()
		if err != nil {
			s.report("clipboard", err)
			return nil
		}
		s.mu.Lock()
		s.last = text
		s.mu.Unlock()
		return s.sendClipboard(text)
	default:
		return protocolErrorf("unexpected %s message on the input channel", m.Type())
	}
	return nil
}

// report logs an injection error; the channel goes on. A run of the same error is logged once.
func (s *inputServer) report(event string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.lastErr = ""
		return
	}
	if msg := event + ": " + err.Error(); msg != s.lastErr {
		s.lastErr = msg
		s.log.Warn("inject input", "event", event, "err", err)
	}
}

func (s *inputServer) sendClipboard(text string) error {
	if len(text) > wire.MaxClipboard {
		s.log.Info("clipboard too large to send", "bytes", len(text), "limit", wire.MaxClipboard)
		return nil
	}
	if err := s.c.write(&wire.Clipboard{Text: text}); err != nil {
		return fmt.Errorf("rdp: send clipboard: %w", err)
	}
	return nil
}

// watchClipboard reports clipboard changes to the viewer.
func (s *inputServer) watchClipboard(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		text, err := s.clip.ReadClipboard()
		if err != nil {
			s.report("clipboard", err)
			continue
		}
		s.mu.Lock()
		changed := text != s.last
		s.last = text
		s.mu.Unlock()
		if changed {
			if err := s.sendClipboard(text); err != nil {
				return
			}
		}
	}
}
