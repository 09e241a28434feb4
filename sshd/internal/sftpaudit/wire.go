package sftpaudit

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// SFTP v3 packet types (draft-ietf-secsh-filexfer-02 section 3).
const (
	fxpInit          = 1
	fxpVersion       = 2
	fxpOpen          = 3
	fxpClose         = 4
	fxpRead          = 5
	fxpWrite         = 6
	fxpLstat         = 7
	fxpFstat         = 8
	fxpSetstat       = 9
	fxpFsetstat      = 10
	fxpOpendir       = 11
	fxpReaddir       = 12
	fxpRemove        = 13
	fxpMkdir         = 14
	fxpRmdir         = 15
	fxpRealpath      = 16
	fxpStat          = 17
	fxpRename        = 18
	fxpReadlink      = 19
	fxpSymlink       = 20
	fxpStatus        = 101
	fxpHandle        = 102
	fxpData          = 103
	fxpName          = 104
	fxpAttrs         = 105
	fxpExtended      = 200
	fxpExtendedReply = 201
)

// SSH_FXF_* open flags.
const (
	fxfRead   = 0x01
	fxfWrite  = 0x02
	fxfAppend = 0x04
	fxfCreat  = 0x08
	fxfTrunc  = 0x10
)

// SSH_FILEXFER_ATTR_* flags.
const (
	attrSize        = 0x00000001
	attrUIDGID      = 0x00000002
	attrPermissions = 0x00000004
	attrACModTime   = 0x00000008
	attrExtended    = 0x80000000
)

const fxOK, fxEOF, fxPermissionDenied = 0, 1, 3

// appendStatus appends an SSH_FXP_STATUS packet answering request id.
func appendStatus(b []byte, id, code uint32, msg string) []byte {
	msg = clip(msg, 256)
	b = binary.BigEndian.AppendUint32(b, uint32(1+4+4+4+len(msg)+4))
	b = append(b, fxpStatus)
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint32(b, code)
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	b = append(b, msg...)
	return binary.BigEndian.AppendUint32(b, 0) // language tag: none
}

// statusNames are the SSH_FX_* codes of v3, with the later drafts' codes
// that pkg/sftp may also send.
var statusNames = [...]string{
	"ok", "eof", "no such file", "permission denied", "failure", "bad message",
	"no connection", "connection lost", "operation unsupported", "invalid handle",
	"no such path", "file already exists", "write protect", "no media",
	"no space on filesystem", "quota exceeded", "unknown principal", "lock conflict",
	"directory not empty", "not a directory", "invalid filename", "link loop",
	"cannot delete", "invalid parameter", "file is a directory",
	"byte range lock conflict", "byte range lock refused", "delete pending",
	"file corrupt", "owner invalid", "group invalid", "no matching byte range lock",
}

// statusText renders a failed STATUS reply for Op.Err.
func statusText(code uint32, msg string) string {
	name := fmt.Sprintf("status %d", code)
	if int(code) < len(statusNames) {
		name = statusNames[code]
	}
	msg = clip(strings.TrimSpace(msg), 256)
	if msg == "" || strings.EqualFold(msg, name) {
		return name
	}
	return name + ": " + msg
}

// decoder reads SSH wire types from one packet. A read past the end sets
// bad and returns zero values, so callers check once at the end.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) u8() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u32() uint32 {
	if len(d.b) < 4 {
		d.bad = true
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.bad = true
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// bytes returns a string field without copying; callers copy what they keep.
func (d *decoder) bytes() []byte {
	n := d.u32()
	if d.bad || uint64(n) > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// str returns a string field, clipped to maxPath: a path longer than any
// file system accepts is kept recognisable without costing memory.
func (d *decoder) str() string { return clip(string(d.bytes()), maxPath) }

// strLen returns only the length of a string field, for data payloads
// whose bytes the auditor never keeps.
func (d *decoder) strLen() uint32 {
	n := d.u32()
	if d.bad {
		return 0
	}
	return n
}

// attrs decodes an ATTRS structure into a short description of what it
// sets ("mode=0644 size=0"), for setstat-like operations.
func (d *decoder) attrs() string {
	flags := d.u32()
	var parts []string
	if flags&attrSize != 0 {
		parts = append(parts, fmt.Sprintf("size=%d", d.u64()))
	}
	if flags&attrUIDGID != 0 {
		uid, gid := d.u32(), d.u32()
		parts = append(parts, fmt.Sprintf("uid=%d gid=%d", uid, gid))
	}
	if flags&attrPermissions != 0 {
		parts = append(parts, fmt.Sprintf("mode=%04o", d.u32()&0o7777))
	}
	if flags&attrACModTime != 0 {
		atime, mtime := d.u32(), d.u32()
		parts = append(parts, fmt.Sprintf("atime=%d mtime=%d", atime, mtime))
	}
	if flags&attrExtended != 0 {
		n := d.u32()
		for i := uint32(0); i < n && !d.bad; i++ {
			name := clip(string(d.bytes()), 64)
			d.bytes()
			parts = append(parts, "ext="+name)
		}
	}
	return strings.Join(parts, " ")
}

// maxPath bounds the paths the auditor keeps and reports: Linux refuses
// paths over 4096 bytes, so nothing real is lost.
const maxPath = 4096

// clip shortens s to at most n bytes, marking that it did.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(clipped)"
}

func errVersion(v uint32) error { return fmt.Errorf("server speaks SFTP version %d, not 3", v) }
