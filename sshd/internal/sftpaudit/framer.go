package sftpaudit

import (
	"encoding/binary"
	"fmt"
)

// MaxPacket is the largest SFTP packet the auditor follows: a little above
// the 256 KiB that OpenSSH's sftp-server and pkg/sftp accept. A longer
// length field means a corrupt stream (or not SFTP at all), and the
// auditor stops parsing rather than buffer it.
const MaxPacket = 256<<10 + 1024

// bulkKeep is how much of a WRITE or DATA packet the framer keeps: enough
// for type, id, a handle of up to 256 bytes (the protocol's limit), offset
// and the data length. The data itself is counted, never copied.
const bulkKeep = 1 + 4 + 4 + 256 + 8 + 4

// framer cuts one direction of an SFTP stream into packets, however the
// stream is split into writes. It keeps at most MaxPacket bytes.
type framer struct {
	hdr    [4]byte
	hdrN   int
	need   uint32 // body bytes still to come for the current packet
	length uint32 // body length of the current packet
	keep   uint32 // body bytes to keep of the current packet
	body   []byte
	// packet receives each packet: the kept prefix of its body (type byte
	// first) and its full body length.
	packet func(body []byte, length uint32) error
}

// feed consumes b. It returns an error, and must not be fed again, when
// the stream cannot be SFTP or packet reports one.
func (f *framer) feed(b []byte) error {
	for len(b) > 0 {
		if f.hdrN < 4 {
			n := copy(f.hdr[f.hdrN:], b)
			f.hdrN += n
			b = b[n:]
			if f.hdrN < 4 {
				return nil
			}
			if err := f.start(binary.BigEndian.Uint32(f.hdr[:])); err != nil {
				return err
			}
			continue
		}
		n := min(uint32(len(b)), f.need)
		f.take(b[:n])
		b = b[n:]
		f.need -= n
		if f.need == 0 {
			f.hdrN = 0
			if err := f.packet(f.body, f.length); err != nil {
				return err
			}
		}
	}
	return nil
}

// between reports whether the stream is between two packets: the next
// byte fed starts a new one.
func (f *framer) between() bool { return f.hdrN == 0 }

// cut returns how much of b belongs to the current packet's header or, once
// the header is in, to its body: feeding b[:cut(b)] ends at the latest
// where the packet (or its header) does. b must not be empty.
func (f *framer) cut(b []byte) int {
	if f.hdrN < 4 {
		return min(len(b), 4-f.hdrN)
	}
	return min(len(b), int(f.need))
}

// complete reports whether the packet just finished was kept whole.
func (f *framer) complete() bool { return uint32(len(f.body)) == f.length }

func (f *framer) start(length uint32) error {
	if length == 0 || length > MaxPacket {
		return fmt.Errorf("packet length %d outside 1..%d", length, MaxPacket)
	}
	f.length, f.need, f.keep = length, length, length
	f.body = f.body[:0]
	return nil
}

// take keeps what is wanted of a chunk of the current body; once the type
// byte is known, bulk packets are cut down to their header.
func (f *framer) take(chunk []byte) {
	if len(f.body) == 0 && len(chunk) > 0 {
		if t := chunk[0]; t == fxpWrite || t == fxpData {
			f.keep = min(f.length, bulkKeep)
		}
	}
	if room := int(f.keep) - len(f.body); room > 0 {
		f.body = append(f.body, chunk[:min(room, len(chunk))]...)
	}
}
