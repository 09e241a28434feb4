// Package sftpaudit watches both directions of a spliced SFTP v3 stream
// (draft-ietf-secsh-filexfer-02, as OpenSSH and pkg/sftp speak it, with
// OpenSSH's extensions) and reports the file operations it sees, so the
// gateway's audit trail comes from the bytes that crossed it rather than
// from what the agent claims.
//
// The auditor is passive: it sees each byte after or before it is written
// on, never changes it, never waits for anything, and keeps a bounded
// amount of state. When the stream stops making sense (a corrupt length,
// a packet over MaxPacket, too much outstanding state) it reports one
// "unparseable" operation and from then on only passes bytes through.
//
// With RefuseWrites it also enforces a read-only grant: a request that may
// change files never reaches the server while writing is not allowed; the
// auditor answers it with SSH_FX_PERMISSION_DENIED itself. Enforcement
// fails closed: a stream it cannot follow goes on only while writing is
// allowed.
package sftpaudit

import (
	"io"
	"log/slog"
	"sync"
)

// Op kinds.
const (
	KindOpenRead    = "open-read"  // Path opened for reading
	KindOpenWrite   = "open-write" // Path opened for writing (write, append, create or truncate)
	KindClose       = "close"      // a file handle closed; Bytes moved on it
	KindOpendir     = "opendir"    // Path listed
	KindRemove      = "remove"
	KindRename      = "rename"   // Path renamed to Target (SSH_FXP_RENAME or posix-rename@openssh.com)
	KindMkdir       = "mkdir"    // Detail: the attributes asked for
	KindRmdir       = "rmdir"    //
	KindSetstat     = "setstat"  // Path's attributes set (chmod, chown, truncate, utimes); Detail says which
	KindFsetstat    = "fsetstat" // the same through an open handle; Path is the handle's file
	KindLsetstat    = "lsetstat" // lsetstat@openssh.com: setstat without following a symlink
	KindSymlink     = "symlink"  // a symlink Path made, pointing at Target
	KindHardlink    = "hardlink" // hardlink@openssh.com: a link Path made to the file Target
	KindCopyData    = "copy-data"
	KindExtended    = "extended" // an extension request the auditor does not know; Target is its name
	KindUnparseable = "unparseable"
	// Reported only when refused (RefuseWrites): data written through a
	// handle, and a packet type outside SFTP v3 (Detail names it).
	KindWrite   = "write"
	KindUnknown = "unknown"
)

// Op is one file operation seen on the stream, reported when its reply
// arrives (or when the stream ends without one).
type Op struct {
	Kind   string
	Path   string
	Target string // rename: new name; symlink, hardlink: what the link points at; copy-data: destination file
	Detail string // setstat-like ops: the attributes set ("mode=0644"); open: the open flags
	// Bytes moved on the handle, reported at close: Read + Written.
	Bytes, Read, Written int64
	// Err is empty on success, else the server's status ("permission
	// denied: ..."), or why no reply was seen.
	Err string
	// Refused is a request the auditor answered itself with permission
	// denied (RefuseWrites): the server never saw it. Reported when refused.
	Refused bool
}

// Auditor follows one SFTP session. Create one per subsystem channel.
type Auditor struct {
	report func(Op)
	log    *slog.Logger

	mu      sync.Mutex
	s       state
	c2s     framer
	s2c     framer
	stopped bool
	closed  bool

	guard guard // set by RefuseWrites
}

// NewAuditor returns an Auditor calling report for each operation. report
// is called from the goroutines copying the stream, one call at a time per
// direction and never with a lock held; it should return quickly, because
// the copy waits for it (a slow report slows the transfer but never loses
// an event).
func NewAuditor(report func(Op), logger *slog.Logger) *Auditor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Auditor{report: report, log: logger, s: newState()}
	a.c2s.packet = a.s.request
	a.s2c.packet = a.s.reply
	return a
}

// ClientToServer wraps the writer that carries the client's bytes to the
// server. Each chunk is parsed before it is written on, so that a request
// is on record before its reply can come back.
func (a *Auditor) ClientToServer(dst io.Writer) io.Writer {
	if a.guard.allow != nil {
		return writerFunc(func(p []byte) (int, error) { return a.guardRequests(dst, p) })
	}
	return writerFunc(func(p []byte) (int, error) {
		a.observe(&a.c2s, p)
		return dst.Write(p)
	})
}

// ServerToClient wraps the writer that carries the server's replies to
// the client. Replies are parsed before they are written on, so an
// operation is reported before the client learns its outcome.
func (a *Auditor) ServerToClient(dst io.Writer) io.Writer {
	if a.guard.allow != nil {
		return writerFunc(func(p []byte) (int, error) { return a.passReplies(dst, p) })
	}
	return writerFunc(func(p []byte) (int, error) {
		a.observe(&a.s2c, p)
		return dst.Write(p)
	})
}

// Close reports what the stream left unfinished: files still open and
// requests never answered. Call it once both copies have returned; bytes
// written after Close are passed through unobserved.
func (a *Auditor) Close() {
	a.mu.Lock()
	var ops []Op
	if !a.closed && !a.stopped {
		ops = a.s.unfinished()
	}
	a.closed = true
	a.mu.Unlock()
	a.emit(ops)
}

// observe parses p for one direction and reports what completed.
func (a *Auditor) observe(f *framer, p []byte) {
	a.mu.Lock()
	if a.stopped || a.closed || len(p) == 0 {
		a.mu.Unlock()
		return
	}
	err := f.feed(p)
	ops := a.s.take()
	if err != nil {
		ops = append(ops, a.stop(err))
	}
	a.mu.Unlock()
	a.emit(ops)
}

// stop gives up following the stream. The caller holds mu.
func (a *Auditor) stop(err error) Op {
	a.stopped = true
	a.s = state{} // drop the state: nothing more will be matched
	a.log.Warn("sftp audit stopped; stream passed through unaudited from here", "err", err)
	return Op{Kind: KindUnparseable, Err: err.Error()}
}

func (a *Auditor) emit(ops []Op) {
	for _, op := range ops {
		a.report(op)
	}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }
