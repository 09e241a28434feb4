package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// reader walks a payload. The first error sticks; later reads return zero values, so a decoder
// reads every field and checks r.err once at the end.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("payload too short")

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) u8() uint8 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) boolean(what string) bool {
	switch v := r.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail(fmt.Errorf("%s: boolean byte %d", what, v))
		return false
	}
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

// uvarint reads an unsigned varint no larger than max.
func (r *reader) uvarint(max uint64, what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(fmt.Errorf("%s: bad varint", what))
		return 0
	}
	if v > max {
		r.fail(fmt.Errorf("%s %d over the limit of %d", what, v, max))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads a signed (zigzag) varint whose absolute value is at most max.
func (r *reader) varint(max int64, what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(fmt.Errorf("%s: bad varint", what))
		return 0
	}
	if v > max || v < -max {
		r.fail(fmt.Errorf("%s %d outside ±%d", what, v, max))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a uvarint length (at most max) and that many bytes, aliasing the payload.
func (r *reader) bytes(max int, what string) []byte {
	n := int(r.uvarint(uint64(max), what+" length"))
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail(fmt.Errorf("%s: %w", what, errShort))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str(max int, what string) string { return string(r.bytes(max, what)) }

// rest returns the remaining bytes, aliasing the payload.
func (r *reader) rest() []byte {
	if r.err != nil {
		return nil
	}
	v := r.b[:len(r.b):len(r.b)]
	r.b = nil
	return v
}

// end reports the sticky error, or an error if bytes are left over.
func (r *reader) end() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
