//go:build !((linux && !android) || freebsd || openbsd || windows)

package tray

import "fmt"

// Tray is the icon while it is shown; this OS has none here (macOS would need an NSStatusItem).
type Tray struct{}

// Open says the icon cannot be shown here.
func Open(opts Options, s State) (*Tray, error) {
	return nil, fmt.Errorf("%w: not on this OS", ErrUnavailable)
}

// Set does nothing.
func (t *Tray) Set(s State) {}

// Close does nothing.
func (t *Tray) Close() {}
