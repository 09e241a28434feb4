package xdesktop

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

// ErrClosed is returned by calls on a desktop whose X connection has closed.
var ErrClosed = errors.New("xdesktop: X connection closed")

// maxPending bounds the rectangles kept between two WaitChange calls; past it they collapse into
// their bounding box, which costs a larger capture but never unbounded memory.
const maxPending = 64

// pollInterval paces WaitChange when the server has no DAMAGE extension.
const pollInterval = 50 * time.Millisecond

// changes follows the DAMAGE extension on the root window. The damage object reports at
// DeltaRectangles level: the server sends an event only when its damage region grows, so a
// window redrawing the same area 60 times a second costs one event per WaitChange, not sixty.
// WaitChange empties the server's region (Subtract) before it hands out the rectangles; the
// caller's capture goes on the same connection after that request, so anything drawn before the
// Subtract is in the capture and anything drawn after it raises a new event.
type changes struct {
	conn   *xgb.Conn
	log    *slog.Logger
	damage damage.Damage // 0 when the server has no DAMAGE

	mu      sync.Mutex
	pending []image.Rectangle
	signal  chan struct{}
	done    chan struct{}
}

func newChanges(conn *xgb.Conn, root xproto.Window, log *slog.Logger) *changes {
	c := &changes{conn: conn, log: log, signal: make(chan struct{}, 1), done: make(chan struct{})}
	dmg, err := createDamage(conn, root)
	if err != nil {
		log.Info("DAMAGE unavailable, polling for changes", "err", err, "interval", pollInterval)
		return c
	}
	c.damage = dmg
	return c
}

func createDamage(conn *xgb.Conn, root xproto.Window) (damage.Damage, error) {
	// DAMAGE's regions are XFixes regions; both extensions want their version negotiated first.
	if err := xfixes.Init(conn); err != nil {
		return 0, err
	}
	if _, err := xfixes.QueryVersion(conn, 5, 0).Reply(); err != nil {
		return 0, err
	}
	if err := damage.Init(conn); err != nil {
		return 0, err
	}
	if _, err := damage.QueryVersion(conn, 1, 1).Reply(); err != nil {
		return 0, err
	}
	dmg, err := damage.NewDamageId(conn)
	if err != nil {
		return 0, err
	}
	if err := damage.CreateChecked(conn, dmg, xproto.Drawable(root), damage.ReportLevelDeltaRectangles).Check(); err != nil {
		return 0, err
	}
	return dmg, nil
}

// handle takes a DAMAGE event; it reports whether ev was one.
func (c *changes) handle(ev xgb.Event) bool {
	n, ok := ev.(damage.NotifyEvent)
	if !ok {
		return false
	}
	r := image.Rect(int(n.Area.X), int(n.Area.Y), int(n.Area.X)+int(n.Area.Width), int(n.Area.Y)+int(n.Area.Height))
	c.mu.Lock()
	c.pending = append(c.pending, r)
	if len(c.pending) > maxPending {
		u := c.pending[0]
		for _, p := range c.pending[1:] {
			u = u.Union(p)
		}
		c.pending = append(c.pending[:0], u)
	}
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
	return true
}

func (c *changes) closed() { close(c.done) }

// WaitChange blocks until part of the screen changed and returns the changed rectangles in
// root-window coordinates (they may overlap). Capture them after it returns, on this desktop:
// whatever was drawn before the damage was re-armed shows in that capture, whatever is drawn
// after it is reported by the next call. Without DAMAGE it returns the whole screen every
// pollInterval.
func (d *Desktop) WaitChange(ctx context.Context) ([]image.Rectangle, error) {
	c := d.changes
	if c.damage == 0 {
		select {
		case <-time.After(pollInterval):
			return []image.Rectangle{d.grab.bounds()}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, ErrClosed
		}
	}
	for {
		select { // a closed connection wins over events still queued
		case <-c.done:
			return nil, ErrClosed
		default:
		}
		select {
		case <-c.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, ErrClosed
		}
		damage.Subtract(c.conn, c.damage, 0, 0)
		c.mu.Lock()
		rs := c.pending
		c.pending = nil
		c.mu.Unlock()
		if len(rs) > 0 {
			return rs, nil
		}
	}
}
