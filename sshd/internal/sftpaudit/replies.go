package sftpaudit

// reply handles one server packet, completing the request it answers.
func (s *state) reply(body []byte, length uint32) error {
	d := &decoder{b: body}
	typ := d.u8()
	if typ == fxpVersion {
		// pkg/sftp and OpenSSH speak version 3; a server that answers
		// with another would need another parser.
		if v := d.u32(); !d.bad && v != 3 {
			return errVersion(v)
		}
		return nil
	}
	id := d.u32()
	if d.bad {
		return malformed("reply", typ)
	}
	p, ok := s.answered(id)
	if !ok {
		return nil
	}
	switch typ {
	case fxpStatus:
		code := d.u32()
		if d.bad {
			return malformed("status", typ)
		}
		// The message is optional in practice (version 2 servers omit it).
		msg := string(d.bytes())
		s.status(p, code, msg)
	case fxpHandle:
		h := string(d.bytes())
		if d.bad {
			return malformed("handle", typ)
		}
		return s.handle(p, h)
	case fxpData:
		n := d.strLen()
		if d.bad || uint64(n)+9 > uint64(length) {
			return malformed("data", typ)
		}
		if f, ok := s.files[p.handle]; ok && p.kind == kindRead {
			f.read += int64(n)
		}
	default:
		// NAME, ATTRS, EXTENDED_REPLY: a success for whatever was asked.
		s.status(p, fxOK, "")
	}
	return nil
}

// status completes a request answered with SSH_FXP_STATUS.
func (s *state) status(p *pending, code uint32, msg string) {
	errText := ""
	if code != fxOK {
		errText = statusText(code, msg)
	}
	switch p.kind {
	case kindRead:
	case kindWrite:
		if f, ok := s.files[p.handle]; ok && code == fxOK {
			f.written += p.n
		}
	case KindClose:
		// A failed close still ends the handle: neither OpenSSH's nor
		// pkg/sftp's client uses it again.
		if f, ok := s.release(p.handle); ok {
			s.emit(Op{Kind: KindClose, Path: f.path, Bytes: f.read + f.written, Read: f.read, Written: f.written, Err: errText})
		}
	default:
		s.emit(p.op(errText))
	}
}

// handle completes an open or opendir answered with a handle.
func (s *state) handle(p *pending, h string) error {
	switch p.kind {
	case KindOpenRead, KindOpenWrite:
		s.emit(p.op(""))
		return s.open(h, p.path)
	case KindOpendir:
		s.emit(p.op(""))
	}
	return nil
}
