package sftpaudit

import (
	"errors"
	"fmt"
)

// maxState bounds the memory one session's bookkeeping may use: requests
// awaiting replies and open handles, each costed at its strings plus
// entryCost. Far above what a real client needs (pkg/sftp and OpenSSH's
// sftp keep about 64 requests in flight); a peer that exceeds it stops
// the audit instead of growing it.
const (
	maxState  = 4 << 20
	entryCost = 96
)

var errStateLimit = errors.New("too many outstanding requests or open handles")

// pending is a request whose reply is awaited.
type pending struct {
	kind   string // an Op kind, or one of the internal kinds below
	handle string
	path   string
	target string
	detail string
	n      int64 // write: bytes sent
}

// Internal request kinds: counted, not reported (a write is reported when
// it is refused, as KindWrite).
const (
	kindRead  = "read"
	kindWrite = KindWrite
)

func (p *pending) cost() int {
	return entryCost + len(p.handle) + len(p.path) + len(p.target) + len(p.detail)
}

// file is an open file handle.
type file struct {
	path          string
	read, written int64
}

// state is the auditor's view of one session: requests in flight by id
// and open file handles. Not safe for concurrent use; Auditor locks it.
type state struct {
	pending map[uint32]*pending
	files   map[string]*file
	used    int
	ops     []Op
	// deny, when set, is why requests that change files are refused
	// (RefuseWrites); refusals are the ids of those refused since the
	// last takeRefusals.
	deny     string
	refusals []uint32
}

func newState() state {
	return state{pending: map[uint32]*pending{}, files: map[string]*file{}}
}

// take returns the operations completed since the last call.
func (s *state) take() []Op {
	ops := s.ops
	s.ops = nil
	return ops
}

func (s *state) emit(op Op) { s.ops = append(s.ops, op) }

func (s *state) takeRefusals() []uint32 {
	r := s.refusals
	s.refusals = nil
	return r
}

func (s *state) await(id uint32, p *pending) error {
	if old, ok := s.pending[id]; ok {
		// A client reusing an id in flight breaks its own session; keep
		// the newer request, as the server will answer it last.
		s.used -= old.cost()
	}
	s.used += p.cost()
	if s.used > maxState {
		return errStateLimit
	}
	s.pending[id] = p
	return nil
}

func (s *state) answered(id uint32) (*pending, bool) {
	p, ok := s.pending[id]
	if ok {
		delete(s.pending, id)
		s.used -= p.cost()
	}
	return p, ok
}

func (s *state) open(handle, path string) error {
	if old, ok := s.files[handle]; ok {
		s.used -= entryCost + len(handle) + len(old.path)
	}
	s.used += entryCost + len(handle) + len(path)
	if s.used > maxState {
		return errStateLimit
	}
	s.files[handle] = &file{path: path}
	return nil
}

func (s *state) release(handle string) (*file, bool) {
	f, ok := s.files[handle]
	if ok {
		delete(s.files, handle)
		s.used -= entryCost + len(handle) + len(f.path)
	}
	return f, ok
}

// pathOf names the file behind a handle, for operations made through one.
func (s *state) pathOf(handle string) string {
	if f, ok := s.files[handle]; ok {
		return f.path
	}
	return ""
}

// unfinished reports, at the end of the stream, files never closed and
// operations whose reply never came.
func (s *state) unfinished() []Op {
	for _, p := range s.pending {
		switch p.kind {
		case kindRead, kindWrite:
		case KindClose:
			// reported below with the handle's counts
		default:
			s.emit(p.op("no reply before the stream ended"))
		}
	}
	for _, f := range s.files {
		s.emit(Op{Kind: KindClose, Path: f.path, Bytes: f.read + f.written, Read: f.read, Written: f.written,
			Err: "not closed before the stream ended"})
	}
	s.pending, s.files = map[uint32]*pending{}, map[string]*file{}
	return s.take()
}

// op is the report for a finished request.
func (p *pending) op(errText string) Op {
	return Op{Kind: p.kind, Path: p.path, Target: p.target, Detail: p.detail, Err: errText}
}

// malformed is a packet that does not decode as its type says.
func malformed(what string, typ byte) error {
	return fmt.Errorf("malformed %s packet type %d", what, typ)
}
