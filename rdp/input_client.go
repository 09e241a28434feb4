package rdp

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// InputClient is the viewer's side of the input channel. It is an Injector, so the viewer can
// hand it to whatever produces input. Its methods are safe for concurrent use.
type InputClient struct {
	c    *conn
	caps uint64
	clip chan string
	done chan struct{}
	err  error // set before done is closed
}

// NewInputClient does the handshake on rw (the input channel).
func NewInputClient(rw io.ReadWriter) (*InputClient, error) {
	c := &InputClient{c: newConn(rw), clip: make(chan string, 1), done: make(chan struct{})}
	peer, err := c.c.handshake(wire.KindInput, 0, true)
	if err != nil {
		return nil, err
	}
	c.caps = peer.Caps
	go c.readLoop()
	return c, nil
}

// ViewOnly reports whether the agent refuses input.
func (c *InputClient) ViewOnly() bool { return c.caps&wire.CapControl == 0 }

// HasClipboard reports whether the agent shares its clipboard.
func (c *InputClient) HasClipboard() bool { return c.caps&wire.CapClipboard != 0 }

// SecureAttention reports whether Ctrl+Alt+Del sent as keys works on the agent's desktop as the
// person's own would (see the SecureAttention interface).
func (c *InputClient) SecureAttention() bool { return c.caps&wire.CapSAS != 0 }

// Key presses (down) or releases an X11 keysym.
func (c *InputClient) Key(keysym uint32, down bool) error {
	return c.send(&wire.Key{Keysym: keysym, Down: down})
}

// Pointer moves the pointer to (x, y) in virtual-screen coordinates with the button mask (bit 0
// left, 1 middle, 2 right).
func (c *InputClient) Pointer(x, y int, buttons uint8) error {
	return c.send(&wire.Pointer{X: int32(clampCoord(x)), Y: int32(clampCoord(y)), Buttons: buttons})
}

// Scroll turns the wheel: dy > 0 down, dx > 0 right, in notches.
func (c *InputClient) Scroll(dx, dy int) error {
	return c.send(&wire.Scroll{DX: int32(clampCoord(dx)), DY: int32(clampCoord(dy))})
}

// Type has the agent type text, character by character (see RuneKeysym). Long text goes in
// several messages.
func (c *InputClient) Type(text string) error {
	for len(text) > 0 {
		n := min(len(text), wire.MaxText)
		for n < len(text) && n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		if err := c.send(&wire.Text{Text: text[:n]}); err != nil {
			return err
		}
		text = text[n:]
	}
	return nil
}

// SetClipboard sets the agent's clipboard.
func (c *InputClient) SetClipboard(text string) error {
	if !c.HasClipboard() && !c.ViewOnly() {
		return errors.New("rdp: the agent does not share its clipboard")
	}
	if len(text) > wire.MaxClipboard {
		return fmt.Errorf("rdp: clipboard text of %d bytes over the limit of %d", len(text), wire.MaxClipboard)
	}
	return c.send(&wire.Clipboard{Text: text})
}

// RequestClipboard asks the agent for its clipboard; it arrives on Clipboard.
func (c *InputClient) RequestClipboard() error {
	if !c.HasClipboard() && !c.ViewOnly() {
		return errors.New("rdp: the agent does not share its clipboard")
	}
	return c.send(&wire.ClipboardRequest{})
}

// Clipboard delivers the agent's clipboard text when it changes or was requested. Only the
// newest text waits in it: a reader that falls behind skips older ones.
func (c *InputClient) Clipboard() <-chan string { return c.clip }

// Done is closed when the channel ends; Err then says why.
func (c *InputClient) Done() <-chan struct{} { return c.done }

// Err returns why the channel ended (a *RemoteError carries the agent's reason), or nil while it
// is open.
func (c *InputClient) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close tells the agent the viewer is done and closes rw if it can be closed.
func (c *InputClient) Close() error {
	c.c.sendClose(wire.CloseNormal, "")
	c.c.close()
	return nil
}

func (c *InputClient) send(m wire.Message) error {
	if c.ViewOnly() {
		return fmt.Errorf("rdp: %s: %w", m.Type(), ErrViewOnly)
	}
	if err := c.Err(); err != nil {
		return err
	}
	if err := c.c.write(m); err != nil {
		return fmt.Errorf("rdp: send %s: %w", m.Type(), err)
	}
	return nil
}

func (c *InputClient) readLoop() {
	for {
		m, err := c.c.read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("rdp: the agent closed the input channel: %w", err)
			}
			c.end(err)
			return
		}
		switch m := m.(type) {
		case *wire.Clipboard:
			// Keep only the newest text: drop a stale one the reader has not taken.
			select {
			case <-c.clip:
			default:
			}
			c.clip <- m.Text
		case *wire.Close:
			c.end(&RemoteError{Code: m.Code, Reason: m.Reason})
			return
		default:
			c.end(protocolErrorf("unexpected %s message on the input channel", m.Type()))
			return
		}
	}
}

func (c *InputClient) end(err error) {
	c.err = err
	close(c.done)
}
