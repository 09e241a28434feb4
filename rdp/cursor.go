package rdp

import (
	"image"

	"github.com/assistkit/assist/rdp/internal/wire"
)

// appendCursor appends cursor messages when the pointer moved or its shape changed. It asks the
// CursorSource only when a poll is due (or nothing was sent yet).
func (s *fbServer) appendCursor(out []byte) []byte {
	if s.cursorSrc == nil || s.caps&wire.CapCursor == 0 || (!s.cursorDue && s.cursor.sent) {
		return out
	}
	s.cursorDue = false
	x, y, shape, hotX, hotY, serial, err := s.cursorSrc.Cursor()
	if err != nil {
		s.log.Debug("read cursor", "err", err)
		return out
	}
	if !s.cursor.sent || serial != s.cursor.serial {
		s.encodeShape(shape, hotX, hotY)
		out = wire.Append(out, &s.shape)
	}
	if !s.cursor.sent || serial != s.cursor.serial || x != s.cursor.x || y != s.cursor.y {
		out = wire.Append(out, &wire.CursorPos{X: int32(clampCoord(x)), Y: int32(clampCoord(y))})
	}
	s.cursor = cursorState{sent: true, x: x, y: y, serial: serial}
	return out
}

// encodeShape fills s.shape from the cursor image: cropped to wire.MaxCursor, premultiplied
// RGBA, zstd when that is smaller. A nil or empty image hides the cursor.
func (s *fbServer) encodeShape(shape *image.RGBA, hotX, hotY int) {
	s.shape = wire.CursorShape{Enc: wire.EncRaw}
	if shape == nil || shape.Rect.Empty() {
		return
	}
	r := shape.Rect
	r.Max.X, r.Max.Y = min(r.Max.X, r.Min.X+wire.MaxCursor), min(r.Max.Y, r.Min.Y+wire.MaxCursor)
	raw := make([]byte, 0, r.Dx()*r.Dy()*4)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		raw = append(raw, rowBytes(shape, r.Min.X, r.Max.X, y)...)
	}
	s.shape = wire.CursorShape{W: uint16(r.Dx()), H: uint16(r.Dy()),
		HotX: uint16(min(max(hotX, 0), r.Dx()-1)), HotY: uint16(min(max(hotY, 0), r.Dy()-1)),
		Enc: wire.EncRaw, Data: raw}
	if s.caps&wire.CapZstd != 0 {
		if z := s.enc.zenc.EncodeAll(raw, nil); len(z) < len(raw) {
			s.shape.Enc, s.shape.Data = wire.EncZstd, z
		}
	}
}

func clampCoord(v int) int { return min(max(v, -wire.MaxCoord), wire.MaxCoord) }
