// Package sessionbus starts a private D-Bus session bus (a real dbus-daemon) for tests, and
// plays on it the desktop's side of StatusNotifierItem: the StatusNotifierWatcher a panel owns,
// which items register with and which forgets an item when its bus name goes. Tests read an
// item's properties and click its menu as a panel does, over the bus.
package sessionbus

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// Start runs a dbus-daemon with the session bus's configuration, listening in a temporary
// directory, until the test ends, and returns its address (for DBUS_SESSION_BUS_ADDRESS).
func Start(tb testing.TB) string {
	tb.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		tb.Fatal("dbus-daemon is not installed (scripts/deps.sh installs the dbus-daemon package)")
	}
	sock := filepath.Join(tb.TempDir(), "bus")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1", "--address=unix:path="+sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start dbus-daemon: %v", err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			tb.Fatal("dbus-daemon printed no address")
		}
		return a
	case <-time.After(30 * time.Second):
		tb.Fatal("dbus-daemon printed no address in 30 s")
	}
	return ""
}

const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	itemIface    = "org.kde.StatusNotifierItem"
	menuIface    = "com.canonical.dbusmenu"
	defaultItem  = dbus.ObjectPath("/StatusNotifierItem")
	busIface     = "org.freedesktop.DBus"
	nameOwnerSig = busIface + ".NameOwnerChanged"
)

// Watcher is a StatusNotifierWatcher on a bus: it hears items register, and go when their bus
// name does.
type Watcher struct {
	tb   testing.TB
	conn *dbus.Conn

	mu    sync.Mutex
	items []string
	ev    chan Event
}

// Event is an item registered (Gone false) or gone, by its bus name.
type Event struct {
	Service string
	Gone    bool
}

// StartWatcher owns org.kde.StatusNotifierWatcher on the bus at addr until the test ends.
func StartWatcher(tb testing.TB, addr string) *Watcher {
	tb.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		tb.Fatalf("connect to the session bus: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	w := &Watcher{tb: tb, conn: conn, ev: make(chan Event, 16)}
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(busIface), dbus.WithMatchMember("NameOwnerChanged")); err != nil {
		tb.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	go w.follow(sigs)
	if err := conn.Export(watcher{w}, watcherPath, watcherName); err != nil {
		tb.Fatal(err)
	}
	if _, err := prop.Export(conn, watcherPath, prop.Map{watcherName: {
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitConst},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitConst},
	}}); err != nil {
		tb.Fatal(err)
	}
	if r, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		tb.Fatalf("own %s: %v (reply %d)", watcherName, err, r)
	}
	return w
}

// follow forgets an item whose bus name went.
func (w *Watcher) follow(sigs <-chan *dbus.Signal) {
	for s := range sigs {
		if s.Name != nameOwnerSig || len(s.Body) != 3 {
			continue
		}
		name, _ := s.Body[0].(string)
		newOwner, _ := s.Body[2].(string)
		if newOwner != "" {
			continue
		}
		w.mu.Lock()
		for i, it := range w.items {
			if it == name {
				w.items = append(w.items[:i], w.items[i+1:]...)
				w.ev <- Event{Service: name, Gone: true}
				w.conn.Emit(watcherPath, watcherName+".StatusNotifierItemUnregistered", name)
				break
			}
		}
		w.mu.Unlock()
	}
}

// watcher is the org.kde.StatusNotifierWatcher methods.
type watcher struct{ w *Watcher }

func (v watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	if strings.HasPrefix(service, "/") { // an object path on the caller's connection
		service = string(sender)
	}
	v.w.mu.Lock()
	defer v.w.mu.Unlock()
	v.w.items = append(v.w.items, service)
	v.w.ev <- Event{Service: service}
	v.w.conn.Emit(watcherPath, watcherName+".StatusNotifierItemRegistered", service)
	return nil
}

func (v watcher) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }

// Next is the next item registered or gone, within a minute.
func (w *Watcher) Next() Event {
	w.tb.Helper()
	select {
	case e := <-w.ev:
		return e
	case <-time.After(time.Minute):
		w.tb.Fatal("no StatusNotifierItem registered or went in a minute")
	}
	return Event{}
}

// Item is a registered StatusNotifierItem, read over the bus as a panel reads it.
type Item struct {
	tb      testing.TB
	conn    *dbus.Conn
	Service string
}

// Item is the item registered under service.
func (w *Watcher) Item(service string) *Item { return &Item{tb: w.tb, conn: w.conn, Service: service} }

func (it *Item) obj(path dbus.ObjectPath) dbus.BusObject { return it.conn.Object(it.Service, path) }

func (it *Item) call(path dbus.ObjectPath, method string, out []any, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return it.obj(path).CallWithContext(ctx, method, 0, args...).Store(out...)
}

// Prop reads the item's property name.
func (it *Item) Prop(name string) (any, error) {
	var v dbus.Variant
	err := it.call(defaultItem, "org.freedesktop.DBus.Properties.Get", []any{&v}, itemIface, name)
	return v.Value(), err
}

// Title is the item's Title.
func (it *Item) Title() string {
	it.tb.Helper()
	v, err := it.Prop("Title")
	if err != nil {
		it.tb.Fatalf("the item's Title: %v", err)
	}
	s, _ := v.(string)
	return s
}

// ToolTip is the item's tooltip: its title and text.
func (it *Item) ToolTip() (title, text string) {
	it.tb.Helper()
	var tip struct {
		IconName string
		Icon     []struct {
			W, H int32
			ARGB []byte
		}
		Title, Text string
	}
	var v dbus.Variant
	if err := it.call(defaultItem, "org.freedesktop.DBus.Properties.Get", []any{&v}, itemIface, "ToolTip"); err != nil {
		it.tb.Fatalf("the item's ToolTip: %v", err)
	}
	if err := v.Store(&tip); err != nil {
		it.tb.Fatalf("the item's ToolTip %v: %v", v, err)
	}
	return tip.Title, tip.Text
}

// Activate clicks the icon.
func (it *Item) Activate() error {
	return it.call(defaultItem, itemIface+".Activate", nil, int32(0), int32(0))
}

// MenuEntry is one entry of the item's menu.
type MenuEntry struct {
	ID      int32
	Label   string
	Enabled bool
}

// Menu is the item's menu as its dbusmenu lays it out, the separators left out.
func (it *Item) Menu() []MenuEntry {
	it.tb.Helper()
	var path dbus.ObjectPath
	v, err := it.Prop("Menu")
	if err == nil {
		path, _ = v.(dbus.ObjectPath)
	}
	if path == "" {
		it.tb.Fatalf("the item has no Menu (%v)", err)
	}
	type layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	var rev uint32
	var root layout
	if err := it.call(path, menuIface+".GetLayout", []any{&rev, &root}, int32(0), int32(-1), []string{}); err != nil {
		it.tb.Fatalf("the item's menu: %v", err)
	}
	var entries []MenuEntry
	for _, c := range root.Children {
		var l layout
		if err := c.Store(&l); err != nil {
			it.tb.Fatalf("menu entry %v: %v", c, err)
		}
		if t, _ := l.Props["type"].Value().(string); t == "separator" {
			continue
		}
		e := MenuEntry{ID: l.ID, Enabled: true}
		e.Label, _ = l.Props["label"].Value().(string)
		if en, ok := l.Props["enabled"].Value().(bool); ok {
			e.Enabled = en
		}
		entries = append(entries, e)
	}
	return entries
}

// Click clicks the menu entry labelled label, as a panel does (dbusmenu's Event "clicked").
func (it *Item) Click(label string) {
	it.tb.Helper()
	for _, e := range it.Menu() {
		if e.Label == label && e.Enabled {
			v, _ := it.Prop("Menu")
			path, _ := v.(dbus.ObjectPath)
			if err := it.call(path, menuIface+".Event", nil, e.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())); err != nil {
				it.tb.Fatalf("click %q: %v", label, err)
			}
			return
		}
	}
	it.tb.Fatalf("the menu has no entry %q to click: %+v", label, it.Menu())
}

func (e MenuEntry) String() string { return fmt.Sprintf("%q(enabled %v)", e.Label, e.Enabled) }
