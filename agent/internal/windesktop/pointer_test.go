package windesktop

import (
	"image"
	"reflect"
	"testing"
	"unsafe"
)

func TestNormaliseLandsOnThePixel(t *testing.T) {
	for _, v := range []image.Rectangle{
		image.Rect(0, 0, 1280, 800),
		image.Rect(0, 0, 1920, 1080),
		image.Rect(-1280, 0, 1920, 1080), // a monitor left of the primary one
		image.Rect(0, -300, 3840, 1200),
		image.Rect(0, 0, 7, 3),
	} {
		for _, floor := range []bool{true, false} {
			for x := v.Min.X; x < v.Max.X; x++ {
				nx, _ := normalise(x, v.Min.Y, v)
				if nx < 0 || nx > 65535 {
					t.Fatalf("%v: x %d → %d, outside 0–65535", v, x, nx)
				}
				if got := back(nx, v.Min.X, v.Dx(), floor); got != x {
					t.Fatalf("%v: x %d → %d → pixel %d (floor %v)", v, x, nx, got, floor)
				}
			}
			for y := v.Min.Y; y < v.Max.Y; y++ {
				_, ny := normalise(v.Min.X, y, v)
				if got := back(ny, v.Min.Y, v.Dy(), floor); got != y {
					t.Fatalf("%v: y %d → %d → pixel %d", v, y, ny, got)
				}
			}
		}
	}
}

// back is how Windows (rounding down) and Wine (rounding to nearest) turn normalised
// coordinates into pixels.
func back(n int32, origin, size int, floor bool) int {
	if floor {
		return origin + int(n)*size/65536
	}
	return origin + (int(n)*size+0x8000)>>16
}

func TestNormaliseClamps(t *testing.T) {
	v := image.Rect(0, 0, 100, 100)
	if x, y := normalise(-5, 500, v); x != 0 || y != 64881 {
		t.Errorf("normalise outside = %d,%d", x, y)
	}
}

func TestPointerEvents(t *testing.T) {
	v := image.Rect(0, 0, 100, 100)
	move := mouseEvent{dx: 0, dy: 0, flags: mouseMove | mouseAbsolute | mouseVirtualDesk}
	for _, tc := range []struct {
		name     string
		was, now uint8
		want     []mouseEvent
	}{
		{"move only", 0, 0, []mouseEvent{move}},
		{"left press", 0, 1, []mouseEvent{move, {flags: mouseLeftDown}}},
		{"left release, right press", 1, 4, []mouseEvent{move, {flags: mouseLeftUp}, {flags: mouseRightDown}}},
		{"middle", 0, 2, []mouseEvent{move, {flags: mouseMiddleDown}}},
		{"all up", 7, 0, []mouseEvent{move, {flags: mouseLeftUp}, {flags: mouseMiddleUp}, {flags: mouseRightUp}}},
	} {
		if got := pointerEvents(0, 0, v, tc.was, tc.now); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestScrollEvents(t *testing.T) {
	got := scrollEvents(2, 3)
	want := []mouseEvent{{mouseData: -360, flags: mouseWheel}, {mouseData: 240, flags: mouseHWheel}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scrollEvents(2, 3) = %+v, want %+v", got, want)
	}
	if got := scrollEvents(0, -1); !reflect.DeepEqual(got, []mouseEvent{{mouseData: 120, flags: mouseWheel}}) {
		t.Errorf("scroll up = %+v", got)
	}
}

// The layouts SendInput reads, from WinUser.h on 64-bit Windows.
func TestInputLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layouts are those of 64-bit Windows")
	}
	var m mouseInput
	var k keyboardInput
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof INPUT (mouse)", unsafe.Sizeof(m), 40},
		{"sizeof INPUT (keyboard)", unsafe.Sizeof(k), 40},
		{"mi.dx", unsafe.Offsetof(m.dx), 8},
		{"mi.mouseData", unsafe.Offsetof(m.mouseData), 16},
		{"mi.dwFlags", unsafe.Offsetof(m.flags), 20},
		{"mi.dwExtraInfo", unsafe.Offsetof(m.extraInfo), 32},
		{"ki.wVk", unsafe.Offsetof(k.vk), 8},
		{"ki.wScan", unsafe.Offsetof(k.scan), 10},
		{"ki.dwFlags", unsafe.Offsetof(k.flags), 12},
		{"ki.time", unsafe.Offsetof(k.time), 16},
		{"ki.dwExtraInfo", unsafe.Offsetof(k.extraInfo), 24},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}
