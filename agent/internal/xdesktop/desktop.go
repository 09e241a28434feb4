package xdesktop

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"sync"

	"github.com/assistkit/assist/rdp"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xinerama"
	"github.com/jezek/xgb/xproto"
)

// ErrNoDisplay is wrapped by Open's error when the X display cannot be reached.
var ErrNoDisplay = errors.New("cannot open X display")

// Desktop is one X display: its screen, its input and its clipboard.
type Desktop struct {
	log     *slog.Logger
	display string
	conn    *xgb.Conn
	root    xproto.Window
	screen  *xproto.ScreenInfo

	grab    *grabber
	changes *changes
	cursor  *cursor
	keys    *keyboard
	clip    *clipboard

	hasRandR, hasXinerama bool

	loopDone chan struct{}
	closeMu  sync.Once
}

// silenceXGB quiets jezek/xgb's package-level logger, which prints "Could not get authority
// info" on every connection to a display without an Xauthority entry (Xvfb, most test setups)
// and "read error" lines on Close. xgb offers no per-connection logger, so this one global
// assignment is unavoidable; it is done once, before the first connection of this package.
var silenceXGB = sync.OnceFunc(func() { xgb.Logger = log.New(io.Discard, "", 0) })

// Open connects to display (":0"; empty means $DISPLAY). It talks to the X server from Go first
// so that a missing display is a clear error here, not a crash inside C later (robotgo).
func Open(display string, logger *slog.Logger) (*Desktop, error) {
	silenceXGB()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if display == "" {
		display = os.Getenv("DISPLAY")
	}
	if display == "" {
		return nil, fmt.Errorf("xdesktop: %w: DISPLAY is not set\nhint: run inside the user's X session or pass the display, e.g. --display :0", ErrNoDisplay)
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("xdesktop: %w %q: %v\nhint: is the X server running, and may this user use it (XAUTHORITY, xhost)?", ErrNoDisplay, display, err)
	}
	screen := xproto.Setup(conn).DefaultScreen(conn)
	d := &Desktop{
		log:      logger.With("display", display),
		display:  display,
		conn:     conn,
		root:     screen.Root,
		screen:   screen,
		loopDone: make(chan struct{}),
	}
	if err := d.init(); err != nil {
		conn.Close()
		return nil, err
	}
	go d.loop()
	return d, nil
}

// init sets up every concern; each one degrades on its own when its extension is missing.
func (d *Desktop) init() error {
	var err error
	if d.grab, err = newGrabber(d.conn, d.screen, d.log); err != nil {
		return err
	}
	d.hasRandR = randr.Init(d.conn) == nil
	d.hasXinerama = xinerama.Init(d.conn) == nil
	d.changes = newChanges(d.conn, d.root, d.log)
	d.cursor = newCursor(d.conn, d.log)
	d.keys = newKeyboard(d.conn, d.root, d.log)
	if d.clip, err = newClipboard(d.conn, d.root); err != nil {
		return err
	}
	return nil
}

// loop reads every event and error of the connection: DAMAGE notifications, selection traffic
// and the errors of unchecked requests. It must never stop while the connection lives, or xgb's
// event queue fills and the connection stalls.
func (d *Desktop) loop() {
	defer close(d.loopDone)
	for {
		ev, xerr := d.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			d.changes.closed()
			d.clip.closed()
			return
		}
		if xerr != nil {
			d.log.Debug("x error", "err", xerr)
			continue
		}
		switch ev := ev.(type) {
		case xproto.MappingNotifyEvent:
			d.keys.mappingChanged(ev)
		case xproto.ConfigureNotifyEvent:
			if ev.Window == d.root {
				d.grab.resized(int(ev.Width), int(ev.Height))
			}
		default:
			if !d.changes.handle(ev) {
				d.clip.handle(ev)
			}
		}
	}
}

// Display returns the display name the desktop is connected to.
func (d *Desktop) Display() string { return d.display }

// Close releases the shared memory and closes the connection.
func (d *Desktop) Close() error {
	d.closeMu.Do(func() {
		d.keys.releaseAll()
		d.grab.close()
		d.conn.Close()
		<-d.loopDone
	})
	return nil
}

// The capabilities the framebuffer and input sides find by type assertion.
var (
	_ rdp.Screen       = (*Desktop)(nil)
	_ rdp.ChangeWaiter = (*Desktop)(nil)
	_ rdp.CursorSource = (*Desktop)(nil)
	_ rdp.Injector     = (*Desktop)(nil)
	_ rdp.Clipboard    = (*Desktop)(nil)
)
