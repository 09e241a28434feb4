package xdesktop

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// maxClipboard is the most text the clipboard moves. One ChangeProperty request carries at most
// 262,140 bytes without BIG-REQUESTS; larger selections need the INCR protocol, which this
// package does not speak.
const maxClipboard = 256<<10 - 64

// clipboardTimeout bounds the wait for another client's answer to ConvertSelection.
const clipboardTimeout = 2 * time.Second

// clipboard owns and reads the CLIPBOARD selection in pure Go: a hidden window of ours owns the
// selection while the technician's text is current and answers other clients' SelectionRequest
// events from the desktop's event loop; reading asks the owner to convert into a property of that
// window and waits for the SelectionNotify.
type clipboard struct {
	conn  *xgb.Conn
	win   xproto.Window
	atoms struct{ clipboard, utf8, text, targets, str, prop, incr xproto.Atom }

	// op serialises reads and writes. state guards text and owned and is the only lock the
	// event loop takes: a read waits for the loop to deliver its SelectionNotify, so the loop
	// must never wait for a read.
	op    sync.Mutex
	state sync.Mutex
	text  string
	owned bool

	notify chan xproto.SelectionNotifyEvent
	done   chan struct{}
	once   sync.Once
}

func newClipboard(conn *xgb.Conn, root xproto.Window) (*clipboard, error) {
	c := &clipboard{conn: conn, notify: make(chan xproto.SelectionNotifyEvent, 1), done: make(chan struct{})}
	names := []struct {
		a    *xproto.Atom
		name string
	}{
		{&c.atoms.clipboard, "CLIPBOARD"}, {&c.atoms.utf8, "UTF8_STRING"}, {&c.atoms.text, "TEXT"},
		{&c.atoms.targets, "TARGETS"}, {&c.atoms.str, "STRING"}, {&c.atoms.prop, "ASSIST_CLIPBOARD"},
		{&c.atoms.incr, "INCR"},
	}
	for _, n := range names {
		r, err := xproto.InternAtom(conn, false, uint16(len(n.name)), n.name).Reply()
		if err != nil {
			return nil, fmt.Errorf("xdesktop: clipboard: intern %s: %w", n.name, err)
		}
		*n.a = r.Atom
	}
	win, err := xproto.NewWindowId(conn)
	if err != nil {
		return nil, fmt.Errorf("xdesktop: clipboard: window id: %w", err)
	}
	err = xproto.CreateWindowChecked(conn, 0, win, root, -10, -10, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, 0, nil).Check()
	if err != nil {
		return nil, fmt.Errorf("xdesktop: clipboard: create window: %w", err)
	}
	c.win = win
	return c, nil
}

func (c *clipboard) closed() { c.once.Do(func() { close(c.done) }) }

// handle takes selection events; it reports whether ev was one.
func (c *clipboard) handle(ev xgb.Event) bool {
	switch ev := ev.(type) {
	case xproto.SelectionRequestEvent:
		c.answer(ev)
	case xproto.SelectionClearEvent:
		if ev.Owner == c.win && ev.Selection == c.atoms.clipboard {
			c.state.Lock()
			c.owned = false
			c.state.Unlock()
		}
	case xproto.SelectionNotifyEvent:
		if ev.Requestor == c.win {
			select {
			case c.notify <- ev:
			default:
			}
		}
	default:
		return false
	}
	return true
}

// answer serves another client's request for our selection: the list of targets, or the text as
// UTF8_STRING/TEXT or Latin-1 STRING. Anything else is refused with property None, as ICCCM asks.
func (c *clipboard) answer(ev xproto.SelectionRequestEvent) {
	prop := ev.Property
	if prop == 0 {
		prop = ev.Target // obsolete clients
	}
	c.state.Lock()
	text, owned := c.text, c.owned
	c.state.Unlock()
	switch {
	case !owned || ev.Selection != c.atoms.clipboard:
		prop = 0
	case ev.Target == c.atoms.targets:
		atoms := []xproto.Atom{c.atoms.targets, c.atoms.utf8, c.atoms.text, c.atoms.str}
		buf := make([]byte, 4*len(atoms))
		for i, a := range atoms {
			xgb.Put32(buf[4*i:], uint32(a))
		}
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, ev.Requestor, prop, xproto.AtomAtom, 32, uint32(len(atoms)), buf)
	case ev.Target == c.atoms.utf8 || ev.Target == c.atoms.text:
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, ev.Requestor, prop, c.atoms.utf8, 8, uint32(len(text)), []byte(text))
	case ev.Target == c.atoms.str:
		b := toLatin1(text)
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, ev.Requestor, prop, c.atoms.str, 8, uint32(len(b)), b)
	default:
		prop = 0
	}
	n := xproto.SelectionNotifyEvent{Time: ev.Time, Requestor: ev.Requestor, Selection: ev.Selection, Target: ev.Target, Property: prop}
	xproto.SendEvent(c.conn, false, ev.Requestor, 0, string(n.Bytes()))
}

// WriteClipboard makes text the CLIPBOARD selection, owned by this desktop until another client
// takes it.
func (d *Desktop) WriteClipboard(text string) error {
	c := d.clip
	if len(text) > maxClipboard {
		return fmt.Errorf("xdesktop: clipboard text of %d bytes is over the %d-byte limit", len(text), maxClipboard)
	}
	c.op.Lock()
	defer c.op.Unlock()
	c.setState(text, true)
	if err := xproto.SetSelectionOwnerChecked(c.conn, c.win, c.atoms.clipboard, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("xdesktop: clipboard: set owner: %w", err)
	}
	r, err := xproto.GetSelectionOwner(c.conn, c.atoms.clipboard).Reply()
	if err != nil {
		return fmt.Errorf("xdesktop: clipboard: get owner: %w", err)
	}
	if r.Owner != c.win {
		c.setState("", false)
		return errors.New("xdesktop: clipboard: another client kept the selection")
	}
	return nil
}

// ReadClipboard returns the CLIPBOARD selection's text, or "" when nobody owns it.
func (d *Desktop) ReadClipboard() (string, error) {
	c := d.clip
	c.op.Lock()
	defer c.op.Unlock()
	owner, err := xproto.GetSelectionOwner(c.conn, c.atoms.clipboard).Reply()
	if err != nil {
		return "", fmt.Errorf("xdesktop: clipboard: get owner: %w", err)
	}
	switch owner.Owner {
	case xproto.WindowNone:
		return "", nil
	case c.win:
		c.state.Lock()
		text, owned := c.text, c.owned
		c.state.Unlock()
		if owned {
			return text, nil
		}
	}
	text, err := c.convert(c.atoms.utf8)
	if errors.Is(err, errRefused) {
		text, err = c.convert(c.atoms.str)
	}
	return text, err
}

func (c *clipboard) setState(text string, owned bool) {
	c.state.Lock()
	c.text, c.owned = text, owned
	c.state.Unlock()
}

var errRefused = errors.New("owner refused the conversion")

func (c *clipboard) convert(target xproto.Atom) (string, error) {
	select { // a late answer to an earlier, timed-out request
	case <-c.notify:
	default:
	}
	xproto.ConvertSelection(c.conn, c.win, c.atoms.clipboard, target, c.atoms.prop, xproto.TimeCurrentTime)
	var ev xproto.SelectionNotifyEvent
	select {
	case ev = <-c.notify:
	case <-time.After(clipboardTimeout):
		return "", fmt.Errorf("xdesktop: clipboard: the selection owner did not answer in %v", clipboardTimeout)
	case <-c.done:
		return "", ErrClosed
	}
	if ev.Property == 0 {
		return "", errRefused
	}
	r, err := xproto.GetProperty(c.conn, true, c.win, c.atoms.prop, xproto.GetPropertyTypeAny, 0, maxClipboard/4+1).Reply()
	if err != nil {
		return "", fmt.Errorf("xdesktop: clipboard: read property: %w", err)
	}
	switch {
	case r.Type == c.atoms.incr:
		return "", fmt.Errorf("xdesktop: clipboard: selection too large (incremental transfer is not supported)")
	case r.BytesAfter > 0:
		return "", fmt.Errorf("xdesktop: clipboard: selection is over the %d-byte limit", maxClipboard)
	case r.Type == c.atoms.str:
		return fromLatin1(r.Value), nil
	}
	return string(r.Value), nil
}

func toLatin1(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}

func fromLatin1(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}
