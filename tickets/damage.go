package tickets

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DamagedError is a store file that cannot be trusted: empty, truncated, not a bbolt file, of an
// unknown schema, or with a page bbolt cannot read. Nothing was changed in it.
type DamagedError struct {
	Path   string
	Reason string
}

func (e *DamagedError) Error() string { return fmt.Sprintf("store %s: %s", e.Path, e.Reason) }

// checkBeforeOpen refuses what bbolt would silently replace or misread: bbolt makes a fresh
// database in an empty file, so an existing file of 0 bytes (a full disk, a bad copy) would
// become an empty store with no accounts and an audit trail that says "intact".
func checkBeforeOpen(path string, mustExist bool) (exists bool, err error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if mustExist {
			return false, fmt.Errorf("store %s: %w", path, ErrNotFound)
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store %s: %w", path, err)
	case !st.Mode().IsRegular():
		return true, &DamagedError{path, "not a regular file"}
	case st.Size() == 0:
		return true, &DamagedError{path, "the file is empty (0 bytes): it was truncated or never written"}
	}
	f, err := os.Open(path)
	if err != nil {
		return true, fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	return true, checkSize(path, f, st.Size())
}

// openBolt is bolt.Open behind a recover: bbolt panics on some damaged files while opening (a
// fault reading the mapped file becomes a panic too).
// The file descriptor of such a failed open stays with the process, which only matters to a
// process that goes on after refusing the file (tests, assistd check).
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			db, err = nil, &DamagedError{path, fmt.Sprintf("damaged: %v", r)}
		}
	}()
	db, err = bolt.Open(path, 0o600, o)
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

// openError names why bbolt could not open an existing file.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrInvalid):
		return &DamagedError{path, "not a bbolt database (its first pages are not a database header)"}
	case errors.Is(err, berrors.ErrChecksum):
		return &DamagedError{path, "both header pages fail their checksum"}
	case errors.Is(err, berrors.ErrVersionMismatch):
		return &DamagedError{path, "written by an unknown bbolt version"}
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("store %s: locked by another process (is assistd already running?): %w", path, ErrLocked)
	}
	return fmt.Errorf("store %s: %w", path, err)
}

// ErrLocked is a store file held by another process.
var ErrLocked = errors.New("store locked")

// checkSize refuses a file shorter than its own header says: bbolt would read past the end of
// the mapped file, in Open (the free list) or on the first request that reaches a missing page.
// The header is read here, as bbolt lays it out, because bbolt panics on such a file rather than
// returning an error. It then refuses a file whose pages refer outside it, or to themselves
// (walkPages), which bbolt would follow where no recover can catch it.
func checkSize(path string, f io.ReaderAt, size int64) error {
	m, ok := readMeta(f)
	if !ok {
		return nil // bbolt says which: not a database, or both headers fail their checksum
	}
	if m.pageSize < minPageSize || m.pageSize > maxPageSize {
		return &DamagedError{path, fmt.Sprintf("damaged: its header says pages of %d bytes", m.pageSize)}
	}
	if m.hwm > uint64(size)/m.pageSize {
		return &DamagedError{path, fmt.Sprintf("truncated: the file has %d bytes, its header says %d pages of %d", size, m.hwm, m.pageSize)}
	}
	if err := walkPages(f, m); err != nil {
		return &DamagedError{path, fmt.Sprintf("damaged: %v", err)}
	}
	return nil
}

// guard turns a panic inside bbolt — a damaged page it cannot decode, or a fault reading a mapped
// page that is no longer in the file — into a *DamagedError naming the file, so that neither the
// gateway nor a command dies with a stack trace. Use as: defer s.guard(&err)().
func (s *Bolt) guard(err *error) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			*err = damaged(s.path, r)
		}
	}
}

func damaged(path string, panicked any) error {
	return &DamagedError{path, fmt.Sprintf("a page cannot be read (%v)", panicked)}
}

// view and update are db.View and db.Update behind guard.
func (s *Bolt) view(fn func(tx *bolt.Tx) error) (err error) {
	defer s.guard(&err)()
	return s.db.View(fn)
}

// update runs fn in a write transaction that it may share with concurrent writes (see
// commitQueue): fn must set its results afresh on each run.
func (s *Bolt) update(fn func(tx *bolt.Tx) error) error {
	return s.commits.do(fn)
}
