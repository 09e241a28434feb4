//go:build (linux && !android) || freebsd || openbsd

package tray

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// The icon is a StatusNotifierItem (freedesktop.org's draft, which KDE, GNOME with the
// AppIndicator extension, XFCE, LXQt and others host): an object on the session bus that the
// desktop's StatusNotifierWatcher is told of and reads its title, tooltip and picture from, with
// its menu a com.canonical.dbusmenu object beside it. A bus name of its own names the item; the
// watcher forgets the item when the name goes, so Close releases it.
const (
	itemPath    = dbus.ObjectPath("/StatusNotifierItem")
	menuPath    = dbus.ObjectPath("/MenuBar")
	itemIface   = "org.kde.StatusNotifierItem"
	menuIface   = "com.canonical.dbusmenu"
	watcherName = "org.kde.StatusNotifierWatcher"
	watcherPath = dbus.ObjectPath("/StatusNotifierWatcher")
)

// Tray is the icon while it is shown. Its methods may be called from any goroutine.
type Tray struct {
	opts  Options
	conn  *dbus.Conn
	name  string
	props *prop.Properties
	menu  *menu
}

// Open shows the icon saying s. The error wraps ErrUnavailable when the desktop has no
// notification area: no session bus, or no StatusNotifierWatcher on it.
func Open(opts Options, s State) (*Tray, error) {
	addr := sessionBus()
	if addr == "" {
		return nil, fmt.Errorf("%w: no D-Bus session bus", ErrUnavailable)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: connect to the D-Bus session bus: %v", ErrUnavailable, err)
	}
	t := &Tray{opts: opts, conn: conn, name: fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", os.Getpid()),
		menu: &menu{emit: func(rev uint32) { conn.Emit(menuPath, menuIface+".LayoutUpdated", rev, int32(0)) }}}
	if err := t.export(s); err != nil {
		conn.Close()
		return nil, fmt.Errorf("show the tray icon: %w", err)
	}
	if err := t.register(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// sessionBus is the session bus's address, or "" when this session has none. Unlike
// dbus.ConnectSessionBus it never starts a bus (dbus-launch), which would outlive the app.
func sessionBus() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		p := filepath.Join(d, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + p
		}
	}
	return ""
}

func (t *Tray) export(s State) error {
	t.menu.set(s.Items)
	if err := t.conn.Export(item{t}, itemPath, itemIface); err != nil {
		return err
	}
	if err := t.conn.Export(t.menu, menuPath, menuIface); err != nil {
		return err
	}
	c := func(v any) *prop.Prop { return &prop.Prop{Value: v, Emit: prop.EmitConst} }
	v := func(v any) *prop.Prop { return &prop.Prop{Value: v, Emit: prop.EmitFalse} } // NewTitle, NewToolTip say it
	icon := t.pixmaps()
	var err error
	t.props, err = prop.Export(t.conn, itemPath, prop.Map{
		itemIface: {
			"Category": c("ApplicationStatus"), "Id": c(t.opts.ID), "Title": v(s.Title),
			"Status": c("Active"), "WindowId": c(int32(0)), "IconThemePath": c(""),
			"IconName": c(""), "IconPixmap": c(icon),
			"OverlayIconName": c(""), "OverlayIconPixmap": c([]pixmap{}),
			"AttentionIconName": c(""), "AttentionIconPixmap": c([]pixmap{}), "AttentionMovieName": c(""),
			"ToolTip":    v(tooltip{Title: s.Title, Text: s.Text, Icon: []pixmap{}}),
			"ItemIsMenu": c(false), "Menu": c(menuPath),
		},
		menuIface: {
			"Version": c(uint32(3)), "TextDirection": c("ltr"), "Status": c("normal"), "IconThemePath": c([]string{}),
		},
	})
	return err
}

// register takes the item's bus name and tells the watcher of it.
func (t *Tray) register() error {
	r, err := t.conn.RequestName(t.name, dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("show the tray icon: take the bus name %s: %w", t.name, err)
	}
	if r != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("show the tray icon: the bus name %s is taken", t.name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// No auto-start: a watcher the bus would start for the call has no panel to show the icon.
	err = t.conn.Object(watcherName, watcherPath).CallWithContext(ctx, watcherName+".RegisterStatusNotifierItem", dbus.FlagNoAutoStart, t.name).Err
	var derr dbus.Error
	if errors.As(err, &derr) && (derr.Name == "org.freedesktop.DBus.Error.NameHasNoOwner" || derr.Name == "org.freedesktop.DBus.Error.ServiceUnknown") {
		return fmt.Errorf("%w: no StatusNotifierWatcher on the session bus", ErrUnavailable)
	}
	if err != nil {
		return fmt.Errorf("%w: register with the StatusNotifierWatcher: %v", ErrUnavailable, err)
	}
	return nil
}

// Set changes what the icon says and offers.
func (t *Tray) Set(s State) {
	t.props.SetMust(itemIface, "Title", s.Title)
	t.props.SetMust(itemIface, "ToolTip", tooltip{Title: s.Title, Text: s.Text, Icon: []pixmap{}})
	t.conn.Emit(itemPath, itemIface+".NewTitle")
	t.conn.Emit(itemPath, itemIface+".NewToolTip")
	t.menu.set(s.Items)
}

// Close takes the icon away: the watcher sees its bus name go.
func (t *Tray) Close() {
	t.conn.ReleaseName(t.name)
	t.conn.Close()
}

// pixmap is one size of the icon as StatusNotifierItem carries it: ARGB32, big-endian.
type pixmap struct {
	W, H int32
	ARGB []byte
}

// tooltip is StatusNotifierItem's (sa(iiay)ss): an icon name, pixmaps, a title and a text.
type tooltip struct {
	IconName string
	Icon     []pixmap
	Title    string
	Text     string
}

func (t *Tray) pixmaps() []pixmap {
	if t.opts.Image == nil {
		return []pixmap{}
	}
	var ps []pixmap
	for _, size := range []int{16, 22, 32, 48} {
		ps = append(ps, argb(t.opts.Image(size)))
	}
	return ps
}

func argb(img *image.NRGBA) pixmap {
	b := img.Bounds()
	p := pixmap{W: int32(b.Dx()), H: int32(b.Dy()), ARGB: make([]byte, 0, 4*b.Dx()*b.Dy())}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.NRGBAAt(x, y)
			p.ARGB = append(p.ARGB, c.A, c.R, c.G, c.B)
		}
	}
	return p
}

// item is the org.kde.StatusNotifierItem methods. The desktop calls them on its own time; the
// app's answer runs on a goroutine of its own so no call waits for a window.
type item struct{ t *Tray }

// Activate is the person's click on the icon (the primary action).
func (i item) Activate(x, y int32) *dbus.Error {
	if i.t.opts.Activate != nil {
		go i.t.opts.Activate()
	}
	return nil
}

// SecondaryActivate (a middle click) does what Activate does.
func (i item) SecondaryActivate(x, y int32) *dbus.Error { return i.Activate(x, y) }

// ContextMenu is asked only by a host that does not show the dbusmenu itself: the bar, with
// the same commands, is brought to the front instead.
func (i item) ContextMenu(x, y int32) *dbus.Error { return i.Activate(x, y) }

// Scroll does nothing: the icon has nothing to scroll through.
func (i item) Scroll(delta int32, orientation string) *dbus.Error { return nil }

// menu is the com.canonical.dbusmenu object of the icon: a root (ID 0) whose children are the
// items. Each layout gets IDs of its own, so a click the desktop sends for an entry of an older
// layout finds nothing rather than the entry now in its place.
type menu struct {
	emit func(revision uint32) // LayoutUpdated

	mu    sync.Mutex
	rev   uint32
	items []Item
}

// menuLayout is dbusmenu's (ia{sv}av): an entry, its properties and its children.
type menuLayout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

type menuProps struct {
	ID    int32
	Props map[string]dbus.Variant
}

type menuEvent struct {
	ID        int32
	EventID   string
	Data      dbus.Variant
	Timestamp uint32
}

const idsPerLayout = 1000

func (m *menu) set(items []Item) {
	m.mu.Lock()
	m.rev++
	m.items = append([]Item(nil), items[:min(len(items), idsPerLayout-1)]...)
	rev := m.rev
	m.mu.Unlock()
	if rev > 1 {
		m.emit(rev)
	}
}

// entry is the current layout's entry with the given ID.
func (m *menu) entry(id int32) (Item, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := int(id) - int(m.rev%(1<<20))*idsPerLayout - 1
	if i < 0 || i >= len(m.items) {
		return Item{}, false
	}
	return m.items[i], true
}

func (m *menu) props(id int32) (map[string]dbus.Variant, bool) {
	if id == 0 {
		return map[string]dbus.Variant{"children-display": dbus.MakeVariant("submenu")}, true
	}
	it, ok := m.entry(id)
	if !ok {
		return nil, false
	}
	if it.Label == "" {
		return map[string]dbus.Variant{"type": dbus.MakeVariant("separator")}, true
	}
	return map[string]dbus.Variant{"label": dbus.MakeVariant(it.Label), "enabled": dbus.MakeVariant(it.Do != nil)}, true
}

func (m *menu) GetLayout(parent, depth int32, names []string) (uint32, menuLayout, *dbus.Error) {
	m.mu.Lock()
	rev, n := m.rev, len(m.items)
	m.mu.Unlock()
	base := int32(rev%(1<<20)) * idsPerLayout
	root, _ := m.props(0)
	l := menuLayout{ID: 0, Props: root, Children: []dbus.Variant{}}
	if parent != 0 { // the entries have no children
		p, ok := m.props(parent)
		if !ok {
			return 0, menuLayout{}, dbus.MakeFailedError(fmt.Errorf("no menu entry %d", parent))
		}
		return rev, menuLayout{ID: parent, Props: p, Children: []dbus.Variant{}}, nil
	}
	if depth != 0 {
		for i := range n {
			id := base + int32(i) + 1
			if p, ok := m.props(id); ok {
				l.Children = append(l.Children, dbus.MakeVariant(menuLayout{ID: id, Props: p, Children: []dbus.Variant{}}))
			}
		}
	}
	return rev, l, nil
}

func (m *menu) GetGroupProperties(ids []int32, names []string) ([]menuProps, *dbus.Error) {
	out := []menuProps{}
	for _, id := range ids {
		if p, ok := m.props(id); ok {
			out = append(out, menuProps{ID: id, Props: p})
		}
	}
	return out, nil
}

func (m *menu) GetProperty(id int32, name string) (dbus.Variant, *dbus.Error) {
	p, ok := m.props(id)
	v, has := p[name]
	if !ok || !has {
		return dbus.Variant{}, dbus.MakeFailedError(fmt.Errorf("menu entry %d has no property %s", id, name))
	}
	return v, nil
}

// Event runs the command of the entry clicked.
func (m *menu) Event(id int32, eventID string, data dbus.Variant, timestamp uint32) *dbus.Error {
	if eventID != "clicked" {
		return nil
	}
	if it, ok := m.entry(id); ok && it.Do != nil {
		go it.Do()
	}
	return nil
}

func (m *menu) EventGroup(events []menuEvent) ([]int32, *dbus.Error) {
	var unknown []int32
	for _, e := range events {
		if _, ok := m.entry(e.ID); !ok {
			unknown = append(unknown, e.ID)
			continue
		}
		m.Event(e.ID, e.EventID, e.Data, e.Timestamp)
	}
	return unknown, nil
}

func (m *menu) AboutToShow(id int32) (bool, *dbus.Error) { return false, nil }

func (m *menu) AboutToShowGroup(ids []int32) ([]int32, []int32, *dbus.Error) {
	return []int32{}, []int32{}, nil
}
