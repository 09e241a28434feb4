package wire

import (
	"encoding/binary"
	"fmt"
)

// Channel kinds, carried in Hello so that a miswired channel fails at once.
const (
	KindFramebuffer = 1
	KindInput       = 2
)

// Capability bits. On the framebuffer channel the viewer lists the encodings it decodes and the
// agent the ones it may send; the agent uses only the intersection. Raw needs no bit: every peer
// must decode it.
const (
	CapSolid   = 1 << 0
	CapZstd    = 1 << 1
	CapCopy    = 1 << 2
	CapCursor  = 1 << 3
	CapPalette = 1 << 4
	// CapStream (version 2): after the agent's hello, everything the agent sends on the
	// framebuffer channel is one zstd stream, cut into Stream messages and flushed at the end of
	// each batch, so compression keeps its history across rectangles and updates.
	CapStream = 1 << 5
	// CapAck (version 3): the viewer sends UpdateAck for each update the moment it has arrived,
	// and the agent keeps about what the link carries in one round trip in flight (measured
	// from the acks) instead of sending as fast as requests allow.
	CapAck = 1 << 6
	// CapJPEG (version 3): the viewer decodes JPEG rectangles (EncJPEG) and takes Quality;
	// the agent may send lossy rectangles where they pay and refines them once still.
	CapJPEG = 1 << 7
	// CapKeyBatch (version 3, with CapStream): set by the viewer (or by a gateway recording
	// the session, on its behalf), it asks for key batches; set by the agent, it says it sends
	// them. A key batch starts a new zstd frame of the stream and is a whole screen: the layout,
	// every pixel of the virtual screen, the cursor, the update's end. A reader can start
	// decoding the stream at one, which is what lets a recording that keeps the stream as it
	// crossed be played from the middle.
	CapKeyBatch = 1 << 8

	// Input channel, announced by the agent.
	CapControl   = 1 << 0 // the agent accepts input events (absent: view only)
	CapClipboard = 1 << 1 // the agent reads and writes the clipboard
	CapSAS       = 1 << 2 // Ctrl+Alt+Del sent as keys works as the person's own (rdp.SecureAttention)
)

// Rectangle encodings.
const (
	EncSolid = 1 // one RGB colour
	EncRaw   = 2 // w×h×3 bytes RGB, rows top to bottom
	EncZstd  = 3 // one zstd frame that decodes to the raw bytes
	EncCopy  = 4 // copy a same-sized rectangle from (SrcX, SrcY) of the viewer's own image
	// EncPalette: 2 to 16 RGB colours and, per row, the colour indices packed at 1, 2 or 4
	// bits (2, ≤4, ≤16 colours), leftmost pixel in the high bits, rows padded to a byte; the
	// packed rows are raw or one zstd frame.
	EncPalette = 5
	// EncJPEG (version 3, CapJPEG): a baseline or progressive JPEG (JFIF) image of exactly W×H
	// pixels, lossy: the agent sends the exact pixels later, once the area is still.
	EncJPEG = 6
)

// MaxPalette bounds a palette rectangle's colours.
const MaxPalette = 16

// PaletteBits returns the bits per index for a palette of n colours.
func PaletteBits(n int) int {
	switch {
	case n <= 2:
		return 1
	case n <= 4:
		return 2
	}
	return 4
}

// PackedSize is the size of a palette rectangle's index rows.
func PackedSize(w, h, colours int) int { return h * ((w*PaletteBits(colours) + 7) / 8) }

// Pixel formats announced in Layout.
const FormatRGB24 = 1

// Close codes.
const (
	CloseNormal   = 0
	CloseViewOnly = 1
	CloseProtocol = 2
	CloseInternal = 3
)

// Hello opens each direction of each channel. Later versions may append fields; a decoder
// ignores bytes after the ones it knows, so Hello stays readable across versions.
type Hello struct {
	Kind    uint8
	Version uint16
	Caps    uint64
}

func (*Hello) Type() Type { return THello }
func (m *Hello) AppendPayload(b []byte) []byte {
	b = append(b, m.Kind)
	b = binary.AppendUvarint(b, uint64(m.Version))
	return binary.AppendUvarint(b, m.Caps)
}
func (m *Hello) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Kind = r.u8()
	m.Version = uint16(r.uvarint(0xffff, "version"))
	m.Caps = r.uvarint(1<<63, "caps")
	return r.err
}

// Close tells the peer why the sender is about to close the channel.
type Close struct {
	Code   uint8
	Reason string
}

func (*Close) Type() Type { return TClose }
func (m *Close) AppendPayload(b []byte) []byte {
	return appendString(append(b, m.Code), m.Reason)
}
func (m *Close) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Code = r.u8()
	m.Reason = r.str(MaxReason, "reason")
	return r.end()
}

// Monitor is one screen of the layout, in virtual-screen coordinates.
type Monitor struct {
	X, Y    int32
	W, H    uint16
	Primary bool
	Name    string
}

// Layout announces the monitors and the pixel format. The virtual screen is the monitors'
// bounding box.
type Layout struct {
	Format   uint8
	Monitors []Monitor
}

func (*Layout) Type() Type { return TLayout }
func (m *Layout) AppendPayload(b []byte) []byte {
	b = append(b, m.Format)
	b = binary.AppendUvarint(b, uint64(len(m.Monitors)))
	for _, mon := range m.Monitors {
		b = binary.AppendVarint(b, int64(mon.X))
		b = binary.AppendVarint(b, int64(mon.Y))
		b = binary.AppendUvarint(b, uint64(mon.W))
		b = binary.AppendUvarint(b, uint64(mon.H))
		b = appendBool(b, mon.Primary)
		b = appendString(b, mon.Name)
	}
	return b
}
func (m *Layout) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Format = r.u8()
	n := int(r.uvarint(MaxMonitors, "monitor count"))
	m.Monitors = make([]Monitor, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		var mon Monitor
		mon.X = int32(r.varint(MaxCoord, "monitor x"))
		mon.Y = int32(r.varint(MaxCoord, "monitor y"))
		mon.W = uint16(r.uvarint(MaxScreen, "monitor width"))
		mon.H = uint16(r.uvarint(MaxScreen, "monitor height"))
		mon.Primary = r.boolean("primary")
		mon.Name = r.str(MaxName, "monitor name")
		m.Monitors = append(m.Monitors, mon)
	}
	if err := r.end(); err != nil {
		return err
	}
	if m.Format != FormatRGB24 {
		return fmt.Errorf("unknown pixel format %d", m.Format)
	}
	return m.check()
}

func (m *Layout) check() error {
	if len(m.Monitors) == 0 {
		return fmt.Errorf("layout has no monitor")
	}
	x0, y0, x1, y1 := int64(1<<62), int64(1<<62), int64(-1<<62), int64(-1<<62)
	for _, mon := range m.Monitors {
		if mon.W == 0 || mon.H == 0 {
			return fmt.Errorf("monitor %q is empty", mon.Name)
		}
		x0, y0 = min(x0, int64(mon.X)), min(y0, int64(mon.Y))
		x1, y1 = max(x1, int64(mon.X)+int64(mon.W)), max(y1, int64(mon.Y)+int64(mon.H))
	}
	if x1-x0 > MaxScreen || y1-y0 > MaxScreen {
		return fmt.Errorf("virtual screen %dx%d over the limit of %d", x1-x0, y1-y0, MaxScreen)
	}
	if (x1-x0)*(y1-y0) > MaxScreenPixels {
		return fmt.Errorf("virtual screen %dx%d over the limit of %d pixels", x1-x0, y1-y0, MaxScreenPixels)
	}
	return nil
}

// Rect is one rectangle of an update. Which fields the body carries depends on Enc: Data for
// solid (3 bytes), raw (W×H×3 bytes) and zstd (the frame); SrcX and SrcY for copy; Palette
// (3 bytes a colour), Zstd and Data (the index rows) for palette.
type Rect struct {
	X, Y       int32
	W, H       uint32
	Enc        uint8
	SrcX, SrcY int32
	Palette    []byte
	Zstd       bool
	Data       []byte
}

func (*Rect) Type() Type { return TRect }
func (m *Rect) AppendPayload(b []byte) []byte {
	b = binary.AppendVarint(b, int64(m.X))
	b = binary.AppendVarint(b, int64(m.Y))
	b = binary.AppendUvarint(b, uint64(m.W))
	b = binary.AppendUvarint(b, uint64(m.H))
	b = append(b, m.Enc)
	switch m.Enc {
	case EncCopy:
		b = binary.AppendVarint(b, int64(m.SrcX))
		return binary.AppendVarint(b, int64(m.SrcY))
	case EncPalette:
		b = append(b, byte(len(m.Palette)/3-1))
		b = append(b, m.Palette...)
		b = appendBool(b, m.Zstd)
	}
	return append(b, m.Data...)
}
func (m *Rect) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.X = int32(r.varint(MaxCoord, "rect x"))
	m.Y = int32(r.varint(MaxCoord, "rect y"))
	m.W = uint32(r.uvarint(MaxScreen, "rect width"))
	m.H = uint32(r.uvarint(MaxScreen, "rect height"))
	m.Enc = r.u8()
	m.SrcX, m.SrcY, m.Palette, m.Zstd, m.Data = 0, 0, nil, false, nil
	if r.err != nil {
		return r.err
	}
	if m.W == 0 || m.H == 0 {
		return fmt.Errorf("empty rect %dx%d", m.W, m.H)
	}
	raw := int(m.W) * int(m.H) * 3
	switch m.Enc {
	case EncSolid:
		m.Data = r.rest()
		if len(m.Data) != 3 {
			return fmt.Errorf("solid rect carries %d bytes, want 3", len(m.Data))
		}
	case EncRaw, EncZstd, EncJPEG:
		if raw > MaxPixelData {
			return fmt.Errorf("rect %dx%d carries %d pixel bytes, over the limit of %d", m.W, m.H, raw, MaxPixelData)
		}
		m.Data = r.rest()
		if m.Enc == EncRaw && len(m.Data) != raw {
			return fmt.Errorf("raw rect %dx%d carries %d bytes, want %d", m.W, m.H, len(m.Data), raw)
		}
		if m.Enc == EncZstd && len(m.Data) == 0 {
			return fmt.Errorf("zstd rect carries no data")
		}
		if m.Enc == EncJPEG && len(m.Data) == 0 {
			return fmt.Errorf("jpeg rect carries no data")
		}
	case EncCopy:
		m.SrcX = int32(r.varint(MaxCoord, "copy source x"))
		m.SrcY = int32(r.varint(MaxCoord, "copy source y"))
		return r.end()
	case EncPalette:
		n := int(r.u8()) + 1
		if r.err == nil && (n < 2 || n > MaxPalette) {
			return fmt.Errorf("palette of %d colours, want 2 to %d", n, MaxPalette)
		}
		if r.err == nil && len(r.b) < 3*n {
			return fmt.Errorf("palette: %w", errShort)
		}
		if r.err == nil {
			m.Palette, r.b = r.b[:3*n:3*n], r.b[3*n:]
		}
		m.Zstd = r.boolean("palette zstd flag")
		m.Data = r.rest()
		if r.err != nil {
			return r.err
		}
		packed := PackedSize(int(m.W), int(m.H), n)
		if packed > MaxPixelData {
			return fmt.Errorf("palette rect %dx%d carries %d index bytes, over the limit of %d", m.W, m.H, packed, MaxPixelData)
		}
		if !m.Zstd && len(m.Data) != packed {
			return fmt.Errorf("palette rect %dx%d carries %d index bytes, want %d", m.W, m.H, len(m.Data), packed)
		}
		if m.Zstd && len(m.Data) == 0 {
			return fmt.Errorf("palette rect carries no data")
		}
	default:
		return fmt.Errorf("unknown encoding %d", m.Enc)
	}
	return nil
}

// UpdateEnd closes the answer to one UpdateRequest.
type UpdateEnd struct{ Seq uint64 }

func (*UpdateEnd) Type() Type                      { return TUpdateEnd }
func (m *UpdateEnd) AppendPayload(b []byte) []byte { return binary.AppendUvarint(b, m.Seq) }
func (m *UpdateEnd) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Seq = r.uvarint(1<<63, "seq")
	return r.end()
}

// CursorPos is the pointer position in virtual-screen coordinates.
type CursorPos struct{ X, Y int32 }

func (*CursorPos) Type() Type { return TCursorPos }
func (m *CursorPos) AppendPayload(b []byte) []byte {
	return binary.AppendVarint(binary.AppendVarint(b, int64(m.X)), int64(m.Y))
}
func (m *CursorPos) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.X = int32(r.varint(MaxCoord, "cursor x"))
	m.Y = int32(r.varint(MaxCoord, "cursor y"))
	return r.end()
}

// CursorShape is the pointer image: W×H pixels of premultiplied RGBA (4 bytes each), raw or as
// one zstd frame. W = H = 0 hides the cursor.
type CursorShape struct {
	W, H       uint16
	HotX, HotY uint16
	Enc        uint8
	Data       []byte
}

func (*CursorShape) Type() Type { return TCursorShape }
func (m *CursorShape) AppendPayload(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(m.W))
	b = binary.AppendUvarint(b, uint64(m.H))
	b = binary.AppendUvarint(b, uint64(m.HotX))
	b = binary.AppendUvarint(b, uint64(m.HotY))
	return append(append(b, m.Enc), m.Data...)
}
func (m *CursorShape) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.W = uint16(r.uvarint(MaxCursor, "cursor width"))
	m.H = uint16(r.uvarint(MaxCursor, "cursor height"))
	m.HotX = uint16(r.uvarint(MaxCursor, "cursor hotspot x"))
	m.HotY = uint16(r.uvarint(MaxCursor, "cursor hotspot y"))
	m.Enc = r.u8()
	m.Data = r.rest()
	if r.err != nil {
		return r.err
	}
	raw := int(m.W) * int(m.H) * 4
	if (m.W == 0) != (m.H == 0) {
		return fmt.Errorf("cursor %dx%d", m.W, m.H)
	}
	if m.W > 0 && (m.HotX >= m.W || m.HotY >= m.H) {
		return fmt.Errorf("cursor hotspot %d,%d outside %dx%d", m.HotX, m.HotY, m.W, m.H)
	}
	switch m.Enc {
	case EncRaw:
		if len(m.Data) != raw {
			return fmt.Errorf("raw cursor %dx%d carries %d bytes, want %d", m.W, m.H, len(m.Data), raw)
		}
	case EncZstd:
		if raw == 0 || len(m.Data) == 0 {
			return fmt.Errorf("zstd cursor %dx%d carries %d bytes", m.W, m.H, len(m.Data))
		}
	default:
		return fmt.Errorf("unknown cursor encoding %d", m.Enc)
	}
	return nil
}

// UpdateRequest asks for one update of a region (W = H = 0: the whole virtual screen). An
// incremental request is answered when something changed; a full one at once, with every pixel.
type UpdateRequest struct {
	Incremental bool
	X, Y        int32
	W, H        uint32
}

func (*UpdateRequest) Type() Type { return TUpdateRequest }
func (m *UpdateRequest) AppendPayload(b []byte) []byte {
	b = appendBool(b, m.Incremental)
	b = binary.AppendVarint(b, int64(m.X))
	b = binary.AppendVarint(b, int64(m.Y))
	b = binary.AppendUvarint(b, uint64(m.W))
	return binary.AppendUvarint(b, uint64(m.H))
}
func (m *UpdateRequest) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Incremental = r.boolean("incremental")
	m.X = int32(r.varint(MaxCoord, "request x"))
	m.Y = int32(r.varint(MaxCoord, "request y"))
	m.W = uint32(r.uvarint(MaxScreen, "request width"))
	m.H = uint32(r.uvarint(MaxScreen, "request height"))
	return r.end()
}

// UpdateAck says that the update ending with UpdateEnd Seq has arrived at the viewer (version
// 3, CapAck), and how long it took to arrive: Spread is the time from its first message to its
// last, in microseconds, which is about how long the link took to carry it. Acks come in
// order, one per update.
type UpdateAck struct{ Seq, Spread uint64 }

// MaxSpread bounds UpdateAck.Spread: an hour.
const MaxSpread = 3600e6

func (*UpdateAck) Type() Type { return TUpdateAck }
func (m *UpdateAck) AppendPayload(b []byte) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(b, m.Seq), m.Spread)
}
func (m *UpdateAck) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Seq = r.uvarint(1<<63, "seq")
	m.Spread = r.uvarint(MaxSpread, "spread")
	return r.end()
}

// Quality modes: what the viewer asks of lossy encoding.
const (
	QualityAuto  = 0 // lossy where it pays, by the link the agent measures
	QualitySharp = 1 // lossless only
	QualityFast  = 2 // lossy wherever content is photo-like, whatever the link
)

// Quality sets how the agent may trade exactness for bytes (version 3, CapJPEG). Until the
// viewer sends one, the mode is QualityAuto.
type Quality struct{ Mode uint8 }

func (*Quality) Type() Type                      { return TQuality }
func (m *Quality) AppendPayload(b []byte) []byte { return append(b, m.Mode) }
func (m *Quality) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Mode = r.u8()
	if r.err == nil && m.Mode > QualityFast {
		return fmt.Errorf("unknown quality mode %d", m.Mode)
	}
	return r.end()
}

// Key presses or releases one X11 keysym.
type Key struct {
	Keysym uint32
	Down   bool
}

func (*Key) Type() Type { return TKey }
func (m *Key) AppendPayload(b []byte) []byte {
	return appendBool(binary.BigEndian.AppendUint32(b, m.Keysym), m.Down)
}
func (m *Key) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Keysym = r.u32()
	m.Down = r.boolean("down")
	return r.end()
}

// Pointer moves the pointer and sets the button mask.
type Pointer struct {
	X, Y    int32
	Buttons uint8
}

func (*Pointer) Type() Type { return TPointer }
func (m *Pointer) AppendPayload(b []byte) []byte {
	b = binary.AppendVarint(b, int64(m.X))
	b = binary.AppendVarint(b, int64(m.Y))
	return append(b, m.Buttons)
}
func (m *Pointer) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.X = int32(r.varint(MaxCoord, "pointer x"))
	m.Y = int32(r.varint(MaxCoord, "pointer y"))
	m.Buttons = r.u8()
	return r.end()
}

// Scroll turns the wheel by whole notches.
type Scroll struct{ DX, DY int32 }

func (*Scroll) Type() Type { return TScroll }
func (m *Scroll) AppendPayload(b []byte) []byte {
	return binary.AppendVarint(binary.AppendVarint(b, int64(m.DX)), int64(m.DY))
}
func (m *Scroll) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.DX = int32(r.varint(MaxCoord, "scroll dx"))
	m.DY = int32(r.varint(MaxCoord, "scroll dy"))
	return r.end()
}

// Text is typed by the agent, rune by rune, as keysyms.
type Text struct{ Text string }

func (*Text) Type() Type                      { return TText }
func (m *Text) AppendPayload(b []byte) []byte { return appendString(b, m.Text) }
func (m *Text) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Text = r.str(MaxText, "text")
	return r.end()
}

// ClipboardRequest asks the agent to send its clipboard now.
type ClipboardRequest struct{}

func (*ClipboardRequest) Type() Type                    { return TClipboardRequest }
func (*ClipboardRequest) AppendPayload(b []byte) []byte { return b }
func (*ClipboardRequest) DecodePayload(p []byte) error {
	r := reader{b: p}
	return r.end()
}

// Clipboard carries clipboard text: viewer → agent sets it, agent → viewer reports it.
type Clipboard struct{ Text string }

func (*Clipboard) Type() Type                      { return TClipboard }
func (m *Clipboard) AppendPayload(b []byte) []byte { return appendString(b, m.Text) }
func (m *Clipboard) DecodePayload(p []byte) error {
	r := reader{b: p}
	m.Text = r.str(MaxClipboard, "clipboard")
	return r.end()
}

// Stream is a piece of the agent's zstd stream: once decompressed, the stream is the ordinary
// frames the agent would otherwise have sent.
type Stream struct{ Data []byte }

// MaxStreamChunk bounds the compressed bytes of one Stream message.
const MaxStreamChunk = 1 << 20

func (*Stream) Type() Type                      { return TStream }
func (m *Stream) AppendPayload(b []byte) []byte { return append(b, m.Data...) }
func (m *Stream) DecodePayload(p []byte) error {
	if len(p) == 0 {
		return fmt.Errorf("empty stream message")
	}
	if len(p) > MaxStreamChunk {
		return fmt.Errorf("stream message of %d bytes over the limit of %d", len(p), MaxStreamChunk)
	}
	m.Data = p
	return nil
}
