package sftpaudit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// guard is the auditor's enforcement of a read-only grant (RefuseWrites).
type guard struct {
	allow  func() error // nil: the auditor is passive
	client io.Writer    // the client's side, where refusals are answered

	// Used only by the goroutine writing the client's bytes.
	deny error  // the verdict on the client packet being read: nil passes it
	fwd  []byte // a held packet put together again

	// out is held while bytes go to the client, from either direction, so
	// that an answer of the auditor's own lands between two of the
	// server's packets, never inside one.
	out    sync.Mutex
	queued []byte // answers waiting for the server's current packet to end
}

// maxQueued bounds the answers waiting for the end of a server packet:
// several hundred refusals, where a client keeps at most 64 requests in
// flight.
const maxQueued = 64 << 10

// RefuseWrites makes the auditor enforce what allow says. allow is asked at
// the start of each client packet; while it returns an error, a request that
// may change files — open with write, append, create or truncate; write;
// remove; rename; mkdir; rmdir; setstat; fsetstat; symlink; every extension
// but the read-only ones; any packet type outside SFTP v3 — never reaches
// the server: the auditor answers it on client with SSH_FX_PERMISSION_DENIED
// and the error's text, under the request's own id, and reports it as an Op
// with Refused set. Other requests go on as before.
//
// client must be the writer that ServerToClient wraps: answers are slipped in
// between the server's packets. A stream the auditor can no longer follow
// goes on only while allow returns nil; otherwise the writes fail, which
// ends the copy. Call RefuseWrites before ClientToServer and ServerToClient.
func (a *Auditor) RefuseWrites(client io.Writer, allow func() error) {
	a.guard.client, a.guard.allow = client, allow
}

// guardRequests passes the client's bytes on. While writing is allowed they
// stream through as on a passive auditor (the verdict is taken when a packet
// starts, and holds for the rest of the chunk); otherwise each packet is held
// until it is complete, then forwarded or answered.
func (a *Auditor) guardRequests(dst io.Writer, p []byte) (int, error) {
	g := &a.guard
	n := len(p)
	for len(p) > 0 {
		if a.isStopped() {
			if err := g.allow(); err != nil {
				return n - len(p), fmt.Errorf("sftp stream no longer followed, and %w", err)
			}
			m, err := dst.Write(p)
			return n - len(p) + m, err
		}
		if a.c2s.between() {
			g.deny = g.allow()
		}
		if g.deny == nil {
			a.observe(&a.c2s, p)
			m, err := dst.Write(p)
			return n - len(p) + m, err
		}
		seg := p[:a.c2s.cut(p)]
		p = p[len(seg):]
		if err := a.judge(dst, seg); err != nil {
			return n - len(p), err
		}
	}
	return n, nil
}

// judge feeds one piece of a held packet. Once the packet is complete it goes
// on to the server whole, or is answered with a refusal.
func (a *Auditor) judge(dst io.Writer, seg []byte) error {
	g := &a.guard
	a.mu.Lock()
	a.s.deny = g.deny.Error()
	err := a.c2s.feed(seg)
	a.s.deny = ""
	refused := a.s.takeRefusals()
	ops := a.s.take()
	if err != nil {
		ops = append(ops, a.stop(err))
	}
	done := err == nil && a.c2s.between()
	if done && len(refused) == 0 {
		if !a.c2s.complete() {
			// Only WRITE and DATA bodies are kept short, and both count as writes.
			err = errors.New("sftp request held incomplete")
		}
		g.fwd = binary.BigEndian.AppendUint32(g.fwd[:0], a.c2s.length)
		g.fwd = append(g.fwd, a.c2s.body...)
	}
	a.mu.Unlock()
	a.emit(ops)
	switch {
	case err != nil:
		return fmt.Errorf("sftp request not understood, and %w", g.deny)
	case !done:
		return nil
	case len(refused) > 0:
		return a.answer(refused)
	}
	_, err = dst.Write(g.fwd)
	return err
}

// answer refuses the requests with these ids: at once if the server's
// stream is between packets, else as soon as its current packet ends.
func (a *Auditor) answer(ids []uint32) error {
	g := &a.guard
	g.out.Lock()
	defer g.out.Unlock()
	for _, id := range ids {
		g.queued = appendStatus(g.queued, id, fxPermissionDenied, g.deny.Error())
	}
	if len(g.queued) > maxQueued {
		return errors.New("sftp: too many refused requests waiting for the server's reply to end")
	}
	return a.flushAnswers()
}

// flushAnswers writes the queued answers if the server's stream is between
// packets. The caller holds guard.out.
func (a *Auditor) flushAnswers() error {
	g := &a.guard
	if len(g.queued) == 0 || !a.s2c.between() {
		return nil
	}
	if a.isStopped() {
		// The framer no longer tracks the server's packets: an answer
		// written now could land inside one.
		return errors.New("sftp: refusals cannot be answered once the server's stream is no longer followed")
	}
	_, err := g.client.Write(g.queued)
	g.queued = g.queued[:0]
	return err
}

// passReplies writes the server's bytes to the client, stopping at the end
// of a packet to let queued answers in.
func (a *Auditor) passReplies(dst io.Writer, p []byte) (int, error) {
	g := &a.guard
	g.out.Lock()
	defer g.out.Unlock()
	n := len(p)
	for len(p) > 0 {
		k := len(p)
		if len(g.queued) > 0 && !a.isStopped() {
			k = a.s2c.cut(p)
		}
		a.observe(&a.s2c, p[:k])
		if _, err := dst.Write(p[:k]); err != nil {
			return n - len(p), err
		}
		p = p[k:]
		if err := a.flushAnswers(); err != nil {
			return n - len(p), err
		}
	}
	return n, nil
}

func (a *Auditor) isStopped() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopped || a.closed
}
