package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/quick"
)

// samples are real messages of every type, used as round-trip cases and fuzz seeds.
func samples() []Message {
	return []Message{
		&Hello{Kind: KindFramebuffer, Version: Version, Caps: CapSolid | CapZstd | CapCopy | CapCursor},
		&Hello{Kind: KindInput, Version: Version, Caps: CapControl | CapClipboard},
		&Close{Code: CloseViewOnly, Reason: "input refused: the session is view only"},
		&Layout{Format: FormatRGB24, Monitors: []Monitor{
			{X: 0, Y: 0, W: 1920, H: 1080, Primary: true, Name: "HDMI-1"},
			{X: 1920, Y: -200, W: 1280, H: 1024, Name: "DP-2"},
		}},
		&Rect{X: 64, Y: 128, W: 8, H: 16, Enc: EncZstd, Data: []byte{0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3}},
		&Rect{X: 0, Y: 0, W: 1920, H: 64, Enc: EncSolid, Data: []byte{0x20, 0x40, 0x60}},
		&Rect{X: 3, Y: 4, W: 2, H: 1, Enc: EncRaw, Data: []byte{1, 2, 3, 4, 5, 6}},
		&Rect{X: 100, Y: 100, W: 1200, H: 784, Enc: EncCopy, SrcX: 100, SrcY: 116},
		&Rect{X: 10, Y: 20, W: 9, H: 2, Enc: EncPalette, Palette: []byte{0, 0, 0, 255, 255, 255}, Data: []byte{0x80, 0x00, 0xff, 0x80}},
		&Rect{X: 10, Y: 20, W: 9, H: 2, Enc: EncPalette, Palette: []byte{0, 0, 0, 255, 255, 255, 1, 2, 3}, Zstd: true, Data: []byte{0x28, 0xb5, 0x2f, 0xfd}},
		&Rect{X: 64, Y: 0, W: 64, H: 64, Enc: EncJPEG, Data: []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0}},
		&UpdateEnd{Seq: 42},
		&Stream{Data: []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0x58, 1, 0, 0}},
		&CursorPos{X: -5, Y: 1079},
		&CursorShape{W: 1, H: 1, HotX: 0, HotY: 0, Enc: EncRaw, Data: []byte{255, 255, 255, 255}},
		&CursorShape{Enc: EncRaw}, // hidden
		&UpdateRequest{Incremental: true, X: 1920, Y: 0, W: 1280, H: 1024},
		&UpdateRequest{},
		&UpdateAck{Seq: 42, Spread: 1250},
		&Quality{Mode: QualityFast},
		&Key{Keysym: 0xff0d, Down: true},
		&Pointer{X: 640, Y: 480, Buttons: 1},
		&Scroll{DX: 0, DY: -3},
		&Text{Text: "héllo\n€"},
		&ClipboardRequest{},
		&Clipboard{Text: "copied text"},
	}
}

func TestRoundTripSamples(t *testing.T) {
	var stream []byte
	for _, m := range samples() {
		stream = Append(stream, m)
	}
	r := bytes.NewReader(stream)
	var buf []byte
	for _, want := range samples() {
		typ, p, b, err := ReadFrame(r, buf)
		buf = b
		if err != nil {
			t.Fatalf("read %T: %v", want, err)
		}
		got, err := Decode(typ, p)
		if err != nil {
			t.Fatalf("decode %T: %v", want, err)
		}
		if !equal(got, want) {
			t.Errorf("round trip: got %+v, want %+v", got, want)
		}
	}
	if _, _, _, err := ReadFrame(r, buf); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
}

// equal compares messages, treating nil and empty byte slices alike.
func equal(a, b Message) bool {
	norm := func(m Message) Message {
		switch v := m.(type) {
		case *Rect:
			c := *v
			if len(c.Data) == 0 {
				c.Data = nil
			}
			if len(c.Palette) == 0 {
				c.Palette = nil
			}
			return &c
		case *CursorShape:
			c := *v
			if len(c.Data) == 0 {
				c.Data = nil
			}
			return &c
		}
		return m
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func roundTrip(t *testing.T, m Message) bool {
	t.Helper()
	b := Append(nil, m)
	typ, p, _, err := ReadFrame(bytes.NewReader(b), nil)
	if err != nil {
		t.Logf("read %+v: %v", m, err)
		return false
	}
	got, err := Decode(typ, p)
	if err != nil {
		t.Logf("decode %+v: %v", m, err)
		return false
	}
	if !equal(got, m) {
		t.Logf("got %+v, want %+v", got, m)
		return false
	}
	return true
}

func coord(v int32) int32   { return v % MaxCoord }
func size(v uint32) uint32  { return v%MaxScreen + 1 }
func small(v uint16) uint16 { return v%MaxCursor + 1 }

func TestQuickRoundTrip(t *testing.T) {
	checks := map[string]any{
		"hello": func(k uint8, v uint16, caps uint64) bool {
			return roundTrip(t, &Hello{Kind: k, Version: v, Caps: caps >> 1})
		},
		"close": func(c uint8, s string) bool {
			return roundTrip(t, &Close{Code: c, Reason: s[:min(len(s), MaxReason)]})
		},
		"layout": func(xs []int32, w, h uint16, primary bool, name string) bool {
			l := &Layout{Format: FormatRGB24}
			for i, x := range xs[:min(len(xs), MaxMonitors)] {
				l.Monitors = append(l.Monitors, Monitor{X: x % 1000, Y: int32(i), W: w%1000 + 1, H: h%1000 + 1,
					Primary: primary && i == 0, Name: name[:min(len(name), MaxName)]})
			}
			if len(l.Monitors) == 0 {
				l.Monitors = []Monitor{{W: 1, H: 1}}
			}
			return roundTrip(t, l)
		},
		"rect": func(x, y int32, w, h uint32, enc uint8, sx, sy int32, data []byte) bool {
			r := &Rect{X: coord(x), Y: coord(y), W: w%64 + 1, H: h%64 + 1, Enc: enc%5 + 1}
			switch r.Enc {
			case EncPalette:
				n := int(sx&15) + 1
				if n < 2 {
					n = 2
				}
				r.Palette = make([]byte, 3*n)
				r.Zstd = sy&1 == 1
				if r.Zstd {
					r.Data = append([]byte{0}, data...)
				} else {
					r.Data = make([]byte, PackedSize(int(r.W), int(r.H), n))
				}
			case EncCopy:
				r.SrcX, r.SrcY = coord(sx), coord(sy)
			case EncSolid:
				r.Data = []byte{1, 2, 3}
			case EncRaw:
				r.Data = make([]byte, r.W*r.H*3)
			case EncZstd:
				r.Data = append([]byte{0}, data...)
			}
			return roundTrip(t, r)
		},
		"update-end": func(s uint64) bool { return roundTrip(t, &UpdateEnd{Seq: s >> 1}) },
		"cursor-pos": func(x, y int32) bool { return roundTrip(t, &CursorPos{X: coord(x), Y: coord(y)}) },
		"cursor-shape": func(w, h, hx, hy uint16, data []byte) bool {
			c := &CursorShape{W: small(w) % 32, H: small(h) % 32, Enc: EncRaw}
			if c.W == 0 || c.H == 0 {
				c.W, c.H = 0, 0
			} else {
				c.HotX, c.HotY = hx%c.W, hy%c.H
			}
			c.Data = make([]byte, int(c.W)*int(c.H)*4)
			return roundTrip(t, c)
		},
		"update-request": func(inc bool, x, y int32, w, h uint32) bool {
			return roundTrip(t, &UpdateRequest{Incremental: inc, X: coord(x), Y: coord(y), W: w % MaxScreen, H: h % MaxScreen})
		},
		"key":       func(k uint32, d bool) bool { return roundTrip(t, &Key{Keysym: k, Down: d}) },
		"pointer":   func(x, y int32, b uint8) bool { return roundTrip(t, &Pointer{X: coord(x), Y: coord(y), Buttons: b}) },
		"scroll":    func(x, y int32) bool { return roundTrip(t, &Scroll{DX: coord(x), DY: coord(y)}) },
		"text":      func(s string) bool { return roundTrip(t, &Text{Text: s}) },
		"clipboard": func(s string) bool { return roundTrip(t, &Clipboard{Text: s}) },
	}
	for name, f := range checks {
		t.Run(name, func(t *testing.T) {
			if err := quick.Check(f, nil); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestReadFrameRejectsOversizedLengthBeforeAllocating(t *testing.T) {
	// The length says 4 GiB; the reader has 5 bytes. An allocation would show as a huge buffer.
	r := bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 1})
	_, _, buf, err := ReadFrame(r, nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if cap(buf) != 0 {
		t.Errorf("allocated %d bytes for a rejected frame", cap(buf))
	}
}

func TestDecodeErrorsAreClear(t *testing.T) {
	cases := []struct {
		m    Message
		want string
	}{
		{&Rect{X: 0, Y: 0, W: 1000, H: 1000, Enc: EncZstd, Data: []byte{1}}, "rect 1000x1000 carries 3000000 pixel bytes, over the limit of 1048576"},
		{&Rect{W: 2, H: 2, Enc: EncRaw, Data: []byte{1}}, "raw rect 2x2 carries 1 bytes, want 12"},
		{&Rect{W: 1, H: 1, Enc: 9}, "unknown encoding 9"},
		{&Layout{Format: FormatRGB24, Monitors: []Monitor{{X: 0, W: 16000, H: 10}, {X: 16000, W: 1000, H: 10}}}, "virtual screen 17000x10 over the limit of 16384"},
		{&Layout{Format: FormatRGB24, Monitors: []Monitor{{W: 16384, H: 8000}}}, "virtual screen 16384x8000 over the limit of 104857600 pixels"},
		{&Layout{Format: 7, Monitors: []Monitor{{W: 1, H: 1}}}, "unknown pixel format 7"},
		{&CursorShape{W: 4, H: 4, HotX: 4, Enc: EncRaw, Data: make([]byte, 64)}, "cursor hotspot 4,0 outside 4x4"},
	}
	for _, c := range cases {
		b := Append(nil, c.m)
		typ, p, _, err := ReadFrame(bytes.NewReader(b), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Decode(typ, p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decode %T: err = %v, want it to mention %q", c.m, err, c.want)
		}
	}
}
