//go:build !nogui && linux

package main

import (
	"io"
	"log"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/assistkit/assist/internal/harness/sessionbus"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// TestGUITray: with a panel on the session bus (a real dbus-daemon, the test its
// StatusNotifierWatcher), a session under control puts an icon in it that names the technician
// and their rights as the bar does; its menu's Switch to view only narrows the live session at
// the gateway, its Stop ends it with the reason the technician reads and the audit keeps, and
// the icon goes with the session.
func TestGUITray(t *testing.T) {
	bus := sessionbus.Start(t)
	panel := sessionbus.StartWatcher(t, bus)
	a := startAppAs(t, nil, appOptions{bus: bus})
	req := a.fileByForm("Pat Person")
	s := a.controlledBy(req)

	const control, view = "Alice Tester (alice) can see and control your screen", "Alice Tester (alice) can see your screen"
	a.await("tray", "state", "shown", "text", control)
	reg := panel.Next()
	if reg.Gone {
		t.Fatalf("the panel heard %+v first, want the icon registered", reg)
	}
	icon := panel.Item(reg.Service)
	if title, text := icon.ToolTip(); title != aliceBar || text != control {
		t.Errorf("the icon's tooltip is %q: %q, want %q: %q", title, text, aliceBar, control)
	}
	if got := icon.Title(); got != aliceBar {
		t.Errorf("the icon's title is %q, want %q", got, aliceBar)
	}
	if got, want := labels(icon.Menu()), []string{control + " (a line)", "Switch to view only", "Stop"}; !slices.Equal(got, want) {
		t.Errorf("the icon's menu is %q, want %q", got, want)
	}
	// Clicking the icon brings the bar to the front.
	bar, main := a.windowID(aliceBar), a.raise("Waiting for the help desk")
	if above(t, a.display, bar, main) {
		t.Fatal("the bar is still in front of the main window just raised")
	}
	if err := icon.Activate(); err != nil {
		t.Fatalf("activate the icon: %v", err)
	}
	testenv.WaitFor(t, 20*time.Second, "the bar in front of the main window", func() bool { return above(t, a.display, bar, main) })

	icon.Click("Switch to view only")
	testenv.WaitFor(t, 20*time.Second, "the gateway to hear view only", func() bool {
		g, _ := s.Grant()
		return g == protocol.GrantView
	})
	a.await("tray", "state", "changed", "text", view)
	if _, text := icon.ToolTip(); text != view {
		t.Errorf("after Switch to view only the tooltip says %q, want %q", text, view)
	}
	if got, want := labels(icon.Menu()), []string{view + " (a line)", "Stop"}; !slices.Equal(got, want) {
		t.Errorf("after Switch to view only the menu is %q, want %q", got, want)
	}

	icon.Click("Stop")
	wait(t, s.Ended(), "the session to end")
	if got := s.EndReason(); got != "the person ended the session" {
		t.Errorf("the technician reads %q, want the person ended the session", got)
	}
	testenv.WaitFor(t, 20*time.Second, "the audit of the session's end", func() bool {
		evs, _ := a.g.Store.Events(tickets.EventFilter{Request: req.Code, Kind: "session.ended"})
		return len(evs) == 1 && strings.Contains(evs[0].Attrs["cause"], "the person ended the session")
	})
	if e := panel.Next(); !e.Gone || e.Service != reg.Service {
		t.Errorf("after Stop the panel heard %+v, want %s gone", e, reg.Service)
	}
	a.trace.AwaitAll(t, []string{"tray", "state", "gone"}, []string{"closed", "title", aliceBar})
}

// labels are a menu's entries as the person reads them; a line of text, not a command, says so.
func labels(m []sessionbus.MenuEntry) []string {
	var l []string
	for _, e := range m {
		if !e.Enabled {
			e.Label += " (a line)"
		}
		l = append(l, e.Label)
	}
	return l
}

// above says whether X window a is stacked above X window b (IDs as xdotool prints them): the
// root's children come bottom to top.
func above(t *testing.T, display, a, b string) bool {
	t.Helper()
	xgb.Logger = log.New(io.Discard, "", 0) // it logs "Could not get authority info" otherwise
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tree, err := xproto.QueryTree(c, xproto.Setup(c).DefaultScreen(c).Root).Reply()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, w := range tree.Children {
		at[strconv.Itoa(int(w))] = i
	}
	ia, oka := at[a]
	ib, okb := at[b]
	if !oka || !okb {
		t.Fatalf("windows %s and %s are not both top-level windows of %s", a, b, display)
	}
	return ia > ib
}
