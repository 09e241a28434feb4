package xdesktop

import (
	"errors"
	"fmt"

	"github.com/assistkit/assist/rdp"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xinerama"
	"github.com/jezek/xgb/xproto"
)

// Monitors returns the physical screens in root-window coordinates, which are the virtual-screen
// coordinates of rdp. It asks RandR 1.5 first (monitors with names and a primary flag), then
// Xinerama (what kbinani/screenshot enumerates), then falls back to the whole root window.
func (d *Desktop) Monitors() ([]rdp.Monitor, error) {
	if ms, err := d.randrMonitors(); err == nil && len(ms) > 0 {
		return ms, nil
	}
	if ms, err := d.xineramaMonitors(); err == nil && len(ms) > 0 {
		return ms, nil
	}
	b := d.grab.bounds()
	return []rdp.Monitor{{W: b.Dx(), H: b.Dy(), Primary: true, Name: "screen"}}, nil
}

func (d *Desktop) randrMonitors() ([]rdp.Monitor, error) {
	if !d.hasRandR {
		return nil, errors.New("no randr")
	}
	v, err := randr.QueryVersion(d.conn, 1, 5).Reply()
	if err != nil {
		return nil, fmt.Errorf("randr version: %w", err)
	}
	if v.MajorVersion < 1 || v.MajorVersion == 1 && v.MinorVersion < 5 {
		return nil, fmt.Errorf("randr %d.%d has no monitors", v.MajorVersion, v.MinorVersion)
	}
	reply, err := randr.GetMonitors(d.conn, d.root, true).Reply()
	if err != nil {
		return nil, fmt.Errorf("randr monitors: %w", err)
	}
	ms := make([]rdp.Monitor, 0, len(reply.Monitors))
	for _, m := range reply.Monitors {
		name := ""
		if a, err := xproto.GetAtomName(d.conn, m.Name).Reply(); err == nil {
			name = a.Name
		}
		ms = append(ms, rdp.Monitor{X: int(m.X), Y: int(m.Y), W: int(m.Width), H: int(m.Height), Primary: m.Primary, Name: name})
	}
	markPrimary(ms)
	return ms, nil
}

func (d *Desktop) xineramaMonitors() ([]rdp.Monitor, error) {
	if !d.hasXinerama {
		return nil, errors.New("no xinerama")
	}
	reply, err := xinerama.QueryScreens(d.conn).Reply()
	if err != nil {
		return nil, fmt.Errorf("xinerama screens: %w", err)
	}
	ms := make([]rdp.Monitor, 0, len(reply.ScreenInfo))
	for i, s := range reply.ScreenInfo {
		ms = append(ms, rdp.Monitor{X: int(s.XOrg), Y: int(s.YOrg), W: int(s.Width), H: int(s.Height), Name: fmt.Sprintf("xinerama-%d", i)})
	}
	markPrimary(ms)
	return ms, nil
}

// markPrimary makes the first monitor primary when the server named none, so a viewer always
// has one to start on.
func markPrimary(ms []rdp.Monitor) {
	for _, m := range ms {
		if m.Primary {
			return
		}
	}
	if len(ms) > 0 {
		ms[0].Primary = true
	}
}
