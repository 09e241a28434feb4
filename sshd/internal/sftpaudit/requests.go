package sftpaudit

import "fmt"

// request handles one client packet. Requests the audit has no interest in
// (stat, readdir, realpath, ...) are not recorded; their replies are then
// ignored as unknown ids.
func (s *state) request(body []byte, length uint32) error {
	d := &decoder{b: body}
	typ := d.u8()
	if typ == fxpInit {
		return nil
	}
	id := d.u32()
	p := s.decodeRequest(typ, d, length)
	if d.bad {
		return malformed("request", typ)
	}
	if s.deny != "" && changes(typ, p) {
		s.refuse(id, typ, p)
		return nil
	}
	if p == nil {
		return nil
	}
	return s.await(id, p)
}

// changes reports whether a request may change the server's files (or is
// not known not to): anything but the read-only requests of SFTP v3 and the
// read-only extensions decodeExtended lets by, so a request this parser has
// never heard of counts as a write.
func changes(typ byte, p *pending) bool {
	if p == nil {
		switch typ {
		case fxpLstat, fxpFstat, fxpReaddir, fxpRealpath, fxpStat, fxpReadlink,
			fxpExtended: // an extension decodeExtended knows to be read-only
			return false
		}
		return true
	}
	switch p.kind {
	case KindOpenRead, KindClose, kindRead, KindOpendir:
		return false
	}
	return true
}

// refuse records a request the auditor answers itself instead of passing
// it on: reported at once as refused, its id queued for the answer.
func (s *state) refuse(id uint32, typ byte, p *pending) {
	if p == nil {
		p = &pending{kind: KindUnknown, detail: fmt.Sprintf("packet type %d", typ)}
	}
	op := p.op("permission denied: " + s.deny)
	if op.Path == "" && p.handle != "" {
		op.Path = s.pathOf(p.handle)
	}
	op.Refused = true
	s.emit(op)
	s.refusals = append(s.refusals, id)
}

func (s *state) decodeRequest(typ byte, d *decoder, length uint32) *pending {
	switch typ {
	case fxpOpen:
		path, flags := d.str(), d.u32()
		kind := KindOpenRead
		if flags&(fxfWrite|fxfAppend|fxfCreat|fxfTrunc) != 0 {
			kind = KindOpenWrite
		}
		return &pending{kind: kind, path: path, detail: openFlags(flags)}
	case fxpClose:
		return &pending{kind: KindClose, handle: string(d.bytes())}
	case fxpRead:
		return &pending{kind: kindRead, handle: string(d.bytes())}
	case fxpWrite:
		h := string(d.bytes())
		d.u64()
		n := d.strLen()
		// The framer kept only the header; the data it announces must
		// still fit in the packet.
		if hdr := 1 + 4 + 4 + len(h) + 8 + 4; uint64(hdr)+uint64(n) > uint64(length) {
			d.bad = true
		}
		return &pending{kind: kindWrite, handle: h, n: int64(n)}
	case fxpSetstat:
		return &pending{kind: KindSetstat, path: d.str(), detail: d.attrs()}
	case fxpFsetstat:
		h := string(d.bytes())
		return &pending{kind: KindFsetstat, path: s.pathOf(h), detail: d.attrs()}
	case fxpOpendir:
		return &pending{kind: KindOpendir, path: d.str()}
	case fxpRemove:
		return &pending{kind: KindRemove, path: d.str()}
	case fxpMkdir:
		return &pending{kind: KindMkdir, path: d.str(), detail: d.attrs()}
	case fxpRmdir:
		return &pending{kind: KindRmdir, path: d.str()}
	case fxpRename:
		return &pending{kind: KindRename, path: d.str(), target: d.str()}
	case fxpSymlink:
		// OpenSSH sends target before link path (the reverse of the
		// draft), and pkg/sftp follows it; see OpenSSH's PROTOCOL 4.1.
		target, link := d.str(), d.str()
		return &pending{kind: KindSymlink, path: link, target: target}
	case fxpExtended:
		return s.decodeExtended(d)
	}
	return nil
}

// decodeExtended handles the extension requests that change files.
// Read-only extensions are left alone; unknown ones are reported by name,
// since an audit should show what it cannot interpret.
func (s *state) decodeExtended(d *decoder) *pending {
	name := clip(string(d.bytes()), 128)
	switch name {
	case "posix-rename@openssh.com":
		return &pending{kind: KindRename, path: d.str(), target: d.str()}
	case "hardlink@openssh.com":
		old, link := d.str(), d.str()
		return &pending{kind: KindHardlink, path: link, target: old}
	case "lsetstat@openssh.com":
		return &pending{kind: KindLsetstat, path: d.str(), detail: d.attrs()}
	case "copy-data":
		from := string(d.bytes())
		off, n := d.u64(), d.u64()
		d.u64()
		to := string(d.bytes())
		return &pending{kind: KindCopyData, path: s.pathOf(from), target: s.pathOf(to),
			detail: fmt.Sprintf("offset=%d length=%d", off, n)}
	case "statvfs@openssh.com", "fstatvfs@openssh.com", "fsync@openssh.com",
		"limits@openssh.com", "expand-path@openssh.com", "home-directory",
		"users-groups-by-id@openssh.com", "check-file-name", "check-file-handle":
		return nil
	}
	return &pending{kind: KindExtended, target: name}
}

// openFlags renders SSH_FXF_* flags as an audit reader knows them.
func openFlags(flags uint32) string {
	names := []struct {
		bit  uint32
		name string
	}{{fxfRead, "read"}, {fxfWrite, "write"}, {fxfAppend, "append"}, {fxfCreat, "create"}, {fxfTrunc, "truncate"}, {0x20, "excl"}}
	out := ""
	for _, n := range names {
		if flags&n.bit != 0 {
			if out != "" {
				out += ","
			}
			out += n.name
		}
	}
	return out
}
