//go:build cgo && (!linux || robotgo)

package xdesktop

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/assistkit/assist/rdp"
	"github.com/go-vgo/robotgo"
	"github.com/jezek/xgb"
)

// RobotInjector injects input with robotgo, for the platforms without X (Windows, macOS). On
// Linux it is built only with the robotgo tag, to compare it with XTEST in the same tests: there
// it loses (see the package doc), and an X error inside robotgo's C code ends the process.
type RobotInjector struct {
	mu      sync.Mutex
	buttons uint8
	shift   int // Shift keys the viewer holds down
}

// NewRobotInjector prepares robotgo. On X11 the display is opened from Go first: robotgo
// crashes the whole process inside C when it cannot open it.
func NewRobotInjector(display string) (*RobotInjector, error) {
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		silenceXGB()
		conn, err := xgb.NewConnDisplay(display)
		if err != nil {
			return nil, fmt.Errorf("xdesktop: %w %q: %v", ErrNoDisplay, display, err)
		}
		conn.Close()
		if display != "" {
			if err := robotgo.SetXDisplayName(display); err != nil {
				return nil, fmt.Errorf("xdesktop: robotgo display %q: %w", display, err)
			}
		}
	}
	// robotgo sleeps 10 ms after every key event by default; a remote viewer paces itself.
	robotgo.KeySleep = 0
	robotgo.MouseSleep = 0
	return &RobotInjector{}, nil
}

// Close closes robotgo's X connection. Call it before the X server goes away: Xlib's I/O error
// handler, which robotgo leaves in place, exits the process when its server disappears.
func (r *RobotInjector) Close() error {
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		robotgo.CloseMainDisplay()
	}
	return nil
}

// Key presses or releases the key for keysym; keysyms robotgo has no exact name for are refused.
func (r *RobotInjector) Key(keysym uint32, down bool) error {
	name, shift, err := robotKey(keysym)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if isShift(keysym) {
		if down {
			r.shift++
		} else if r.shift > 0 {
			r.shift--
		}
	}
	args := []any{"down"}
	if !down {
		args[0] = "up"
	}
	if shift && r.shift == 0 {
		args = append(args, "shift")
	}
	return robotgo.KeyToggle(name, args...)
}

// Pointer moves the pointer and presses or releases the buttons whose bit changed (bit 0 left,
// 1 middle, 2 right).
func (r *RobotInjector) Pointer(x, y int, buttons uint8) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	robotgo.Move(x, y)
	for bit, name := range []string{"left", "center", "right"} {
		was, now := r.buttons&(1<<bit) != 0, buttons&(1<<bit) != 0
		if was == now {
			continue
		}
		dir := "up"
		if now {
			dir = "down"
		}
		if err := robotgo.Toggle(name, dir); err != nil {
			return fmt.Errorf("xdesktop: robotgo %s %s: %w", name, dir, err)
		}
	}
	r.buttons = buttons & 7
	return nil
}

// Scroll turns the wheel; robotgo counts up and left as positive.
func (r *RobotInjector) Scroll(dx, dy int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	robotgo.Scroll(-dx, -dy, 0)
	return nil
}

var _ rdp.Injector = (*RobotInjector)(nil)
