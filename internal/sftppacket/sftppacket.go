// Package sftppacket hands every SFTP packet to an SSH channel in one Write. pkg/sftp writes a
// packet's header and its data separately, and an SSH channel sends each Write as at least one SSH
// packet: two packets, two encryptions and two system calls per 32 KiB of data on every hop.
// pkg/sftp serialises whole packets, so Write sees them one after another, each starting with its
// length. The agent's SFTP server and the viewer's client both use it.
package sftppacket

import (
	"encoding/binary"
	"io"
)

// NewWriter returns a writer that gathers each SFTP packet written to it and passes it to w in
// one Write; a packet larger than pkg/sftp's limit passes through unbuffered.
func NewWriter(w io.Writer) io.Writer { return &writer{w: w} }

type writer struct {
	w    io.Writer
	buf  []byte
	pass int // bytes of an oversized packet still to pass straight through
}

// maxBuffered is the largest packet gathered: pkg/sftp's own limit is 256 KiB.
const maxBuffered = 256<<10 + 1024

func (p *writer) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if p.pass > 0 {
			k := min(p.pass, len(b))
			if _, err := p.w.Write(b[:k]); err != nil {
				return 0, err
			}
			p.pass -= k
			b = b[k:]
			continue
		}
		if len(p.buf) < 4 {
			k := min(4-len(p.buf), len(b))
			p.buf, b = append(p.buf, b[:k]...), b[k:]
			if len(p.buf) < 4 {
				continue
			}
		}
		want := 4 + int(binary.BigEndian.Uint32(p.buf[:4]))
		if want > maxBuffered {
			if _, err := p.w.Write(p.buf); err != nil {
				return 0, err
			}
			p.pass, p.buf = want-len(p.buf), p.buf[:0]
			continue
		}
		k := min(want-len(p.buf), len(b))
		p.buf, b = append(p.buf, b[:k]...), b[k:]
		if len(p.buf) == want {
			if _, err := p.w.Write(p.buf); err != nil {
				return 0, err
			}
			p.buf = p.buf[:0]
		}
	}
	return n, nil
}
