package workload

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/assistkit/assist/internal/harness/xvfb"
)

// pixel reads one pixel of the root window as the X server has it.
func pixel(t *testing.T, conn *xgb.Conn, x, y int) (r, g, b uint8) {
	t.Helper()
	root := xproto.Setup(conn).DefaultScreen(conn).Root
	img, err := xproto.GetImage(conn, xproto.ImageFormatZPixmap, xproto.Drawable(root), int16(x), int16(y), 1, 1, 0xffffffff).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return img.Data[2], img.Data[1], img.Data[0]
}

func runMode(t *testing.T, display string, mode Mode, d time.Duration) []Change {
	t.Helper()
	return run(t, Options{Display: display, Mode: mode, Duration: d})
}

// run runs the workload with o and returns its record.
func run(t *testing.T, o Options) []Change {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	mode := o.Mode
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("run %s: %v", mode, err)
	}
	cs, err := ReadChanges(&out)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestModes(t *testing.T) {
	display := xvfb.ForTest(t, "-screen", "0", "1600x1000x24")
	area := textArea(1600, 1000)

	for _, tc := range []struct {
		mode  Mode
		check func(t *testing.T, c Change)
	}{
		{Full, func(t *testing.T, c Change) {
			if c.X != 0 || c.Y != 0 || c.W != 1600 || c.H != 1000 || c.MX != 0 || c.MY != 0 {
				t.Errorf("full change %+v: want the whole screen, marker at 0,0", c)
			}
		}},
		{Typing, func(t *testing.T, c Change) {
			r := image.Rect(c.X, c.Y, c.X+c.W, c.Y+c.H)
			if c.W != 8 || c.H != 16 || !r.In(area) || c.MX != c.X || c.MY != c.Y {
				t.Errorf("typing change %+v: want an 8×16 cell in %v with the marker at its corner", c, area)
			}
		}},
		{Scroll, func(t *testing.T, c Change) {
			if image.Rect(c.X, c.Y, c.X+c.W, c.Y+c.H) != area || c.MX != area.Min.X || c.MY != area.Max.Y-16 {
				t.Errorf("scroll change %+v: want area %v, marker on its last line", c, area)
			}
		}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			// Ten changes, however long a loaded machine takes to draw them: full mode's
			// scenes can take longer than its interval.
			cs := run(t, Options{Display: display, Mode: tc.mode, Changes: 10})
			if len(cs) != 11 {
				t.Fatalf("%d records for ten changes, want the initial scene and ten", len(cs))
			}
			for i, c := range cs {
				if c.N != i {
					t.Fatalf("change %d numbered %d", i, c.N)
				}
				if i > 0 {
					tc.check(t, c)
					if c.T <= cs[i-1].T {
						t.Errorf("change %d at %d, not after %d", i, c.T, cs[i-1].T)
					}
				}
			}
		})
	}
}

// TestMarkers draws changes of each mode and reads every change's marker pixel back from the
// X server, as a viewer would.
func TestMarkers(t *testing.T) {
	display := xvfb.ForTest(t, "-screen", "0", "1280x900x24")
	for _, mode := range []Mode{Full, Typing, Scroll, Video} {
		t.Run(string(mode), func(t *testing.T) {
			s, err := openSurface(display)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			d, err := newDrawer(s, mode)
			if err != nil {
				t.Fatal(err)
			}
			d.first()
			if _, err := s.sync(); err != nil {
				t.Fatal(err)
			}
			for n := 1; n <= 300; n++ {
				m := d.change(n)
				if _, err := s.sync(); err != nil {
					t.Fatal(err)
				}
				if n%50 != 1 && n != 300 {
					continue
				}
				if got := MarkerNumber(pixel(t, s.conn, m.mx, m.my)); got != n {
					t.Fatalf("change %d: marker at (%d,%d) reads %d", n, m.mx, m.my, got)
				}
			}
		})
	}
}

// TestScrollMovesContent checks the terminal behaviour: after a scroll the area's pixels are
// the previous ones moved up one line, and only the bottom line is new.
func TestScrollMovesContent(t *testing.T) {
	display := xvfb.ForTest(t, "-screen", "0", "1280x900x24")
	s, err := openSurface(display)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	d, err := newDrawer(s, Scroll)
	if err != nil {
		t.Fatal(err)
	}
	d.first()
	if _, err := s.sync(); err != nil { // the server reads the canvas itself: let it finish
		t.Fatal(err)
	}
	before := append([]byte(nil), s.canvas.pix...)
	m := d.scroll(1)
	if _, err := s.sync(); err != nil {
		t.Fatal(err)
	}
	a, w := m.r, s.canvas.w
	got, err := xproto.GetImage(s.conn, xproto.ImageFormatZPixmap, xproto.Drawable(s.win), int16(a.Min.X), int16(a.Min.Y),
		uint16(a.Dx()), uint16(a.Dy()), 0xffffffff).Reply()
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < a.Dy()-16; y++ {
		g := got.Data[y*a.Dx()*4 : (y+1)*a.Dx()*4]
		b := before[((a.Min.Y+y+16)*w+a.Min.X)*4 : ((a.Min.Y+y+16)*w+a.Max.X)*4]
		for i := 0; i < len(g); i += 4 { // compare RGB; the pad byte is undefined
			if g[i] != b[i] || g[i+1] != b[i+1] || g[i+2] != b[i+2] {
				t.Fatalf("row %d of the area is not row %d from before the scroll", y, y+16)
			}
		}
	}
	if n := MarkerNumber(pixel(t, s.conn, m.mx, m.my)); n != 1 {
		t.Fatalf("new line's marker reads %d, want 1", n)
	}
}

func TestIdleDrawsOnce(t *testing.T) {
	display := xvfb.ForTest(t, "-screen", "0", "640x480x24")
	cs := runMode(t, display, Idle, 300*time.Millisecond)
	if len(cs) != 1 || cs[0].N != 0 {
		t.Fatalf("idle records %+v, want only the initial scene", cs)
	}
}

func TestBadMode(t *testing.T) {
	if err := Run(context.Background(), Options{Mode: "spin"}); err == nil {
		t.Fatal("unknown mode accepted")
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 65535, 1 << 20, 1<<24 - 1} {
		if got := MarkerNumber(MarkerColor(n)); got != n {
			t.Errorf("marker %d reads back %d", n, got)
		}
	}
}

func FuzzReadChanges(f *testing.F) {
	f.Add([]byte(`{"n":0,"t":1795486035687923255,"x":0,"y":0,"w":1920,"h":1080,"mx":0,"my":0}
{"n":1,"t":1795486035709927554,"x":360,"y":140,"w":8,"h":16,"mx":360,"my":140}
`))
	f.Add([]byte(`{"n":1}{"n":2`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ReadChanges(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		for _, c := range cs {
			json.NewEncoder(&out).Encode(c)
		}
		again, err := ReadChanges(&out)
		if err != nil || len(again) != len(cs) {
			t.Fatalf("re-read %d of %d records: %v", len(again), len(cs), err)
		}
		for i := range cs {
			if cs[i] != again[i] {
				t.Fatalf("record %d: %+v became %+v", i, cs[i], again[i])
			}
		}
	})
}

// TestDesktopScenes: full mode's scenes have anti-aliased text (many colours in a window's
// text, not two) and never repeat, not even the scene five later, which has the same layout.
func TestDesktopScenes(t *testing.T) {
	f, err := loadFaces()
	if err != nil {
		t.Fatal(err)
	}
	d := &sceneDrawer{f: f}
	scenes := map[string]int{}
	for n := range 11 {
		c := newCanvas(1280, 800)
		d.draw(c, n)
		if m, ok := scenes[string(c.pix)]; ok {
			t.Fatalf("scene %d repeats scene %d", n, m)
		}
		scenes[string(c.pix)] = n
		// A band of body text in the first window: count its colours.
		colours := map[uint32]bool{}
		for y := 120; y < 300; y++ {
			for x := 100; x < 500; x++ {
				colours[binary.LittleEndian.Uint32(c.pix[(y*c.w+x)*4:])] = true
			}
		}
		if len(colours) < 16 {
			t.Errorf("scene %d: %d colours in a text area, want anti-aliasing's many", n, len(colours))
		}
	}
}

// TestVideoFramesDiffer: every video frame differs from the one before everywhere that
// matters, and is not a shifted copy of it (grain).
func TestVideoFramesDiffer(t *testing.T) {
	f := newFilm()
	r := videoArea(1280, 800)
	a, b := newCanvas(1280, 800), newCanvas(1280, 800)
	f.frame(a, r, 1)
	f.frame(b, r, 2)
	same := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := (y*a.w + x) * 4
			if binary.LittleEndian.Uint32(a.pix[i:]) == binary.LittleEndian.Uint32(b.pix[i:]) {
				same++
			}
		}
	}
	if same > r.Dx()*r.Dy()/4 {
		t.Errorf("%d of %d pixels unchanged between frames", same, r.Dx()*r.Dy())
	}
}
