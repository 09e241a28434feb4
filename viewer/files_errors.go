package viewer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"syscall"

	"github.com/pkg/sftp"
)

// Side says on which computer a path is: the technician's (Local) or the person's (Remote).
type Side string

const (
	Local  Side = "local"
	Remote Side = "remote"
)

// ErrDiskFull is matched (errors.Is) by a FileError whose disk or quota is full.
var ErrDiskFull = errors.New("disk full")

// ErrConnectionLost is matched by a FileError when the session ended under the copy.
var ErrConnectionLost = errors.New("connection to the person's computer lost")

// FileError is a file operation that failed, naming the path and the computer it is on, in
// words a technician can act on: "open remote /etc/shadow: permission denied". errors.Is matches
// fs.ErrNotExist, fs.ErrPermission, fs.ErrExist, ErrDiskFull and ErrConnectionLost, and the
// underlying error.
type FileError struct {
	Op   string // open, read, write, create, mkdir, list, stat, chmod, …
	Side Side
	Path string
	Err  error
}

func (e *FileError) Error() string {
	msg := describe(e.Err)
	if e.Side == Remote && errors.Is(e.kind(), fs.ErrPermission) && writeOps[e.Op] {
		// pkg/sftp's server answers a write under read-only consent with the same code as a
		// file the person's account cannot write; say both, since the client cannot tell.
		msg += " (the person's account may not write there, or they allowed read-only file access)"
	}
	return fmt.Sprintf("%s %s %s: %s", e.Op, e.Side, e.Path, msg)
}

func (e *FileError) Unwrap() []error {
	if k := e.kind(); k != nil {
		return []error{k, e.Err}
	}
	return []error{e.Err}
}

var writeOps = map[string]bool{"create": true, "write": true, "mkdir": true, "remove": true, "rename": true, "chmod": true, "chtimes": true}

func (e *FileError) kind() error { return kindOf(e.Err) }

// kindOf sorts an error from either side into the few cases a person can act on.
func kindOf(err error) error {
	var st *sftp.StatusError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fs.ErrNotExist
	case errors.Is(err, fs.ErrPermission):
		return fs.ErrPermission
	case errors.Is(err, fs.ErrExist):
		return fs.ErrExist
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return ErrDiskFull
	case errors.As(err, &st):
		// The server sends its OS's words with SSH_FX_FAILURE; SFTP v3 has no code for these.
		m := strings.ToLower(st.Error())
		for _, s := range []string{"no space left", "quota exceeded", "not enough space", "disk full"} {
			if strings.Contains(m, s) {
				return ErrDiskFull
			}
		}
		if strings.Contains(m, "file exists") {
			return fs.ErrExist
		}
		if st.FxCode() == sftp.ErrSSHFxConnectionLost || st.FxCode() == sftp.ErrSSHFxNoConnection {
			return ErrConnectionLost
		}
	case errors.Is(err, sftp.ErrSSHFxConnectionLost), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrConnectionLost
	}
	return nil
}

// describe is the part of the message after the path.
func describe(err error) string {
	switch kindOf(err) {
	case fs.ErrNotExist:
		return "no such file or directory"
	case fs.ErrPermission:
		return "permission denied"
	case fs.ErrExist:
		return "file exists"
	case ErrDiskFull:
		if errors.Is(err, syscall.EDQUOT) || strings.Contains(strings.ToLower(err.Error()), "quota") {
			return "disk full (quota exceeded)"
		}
		return "disk full (no space left on device)"
	case ErrConnectionLost:
		return ErrConnectionLost.Error()
	}
	var st *sftp.StatusError
	if errors.As(err, &st) {
		return statusText(st)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// statusText keeps the server's reason without the path it repeats ("open /x: is a directory").
func statusText(st *sftp.StatusError) string {
	msg := st.Error()
	// pkg/sftp formats `sftp: "MSG" (SSH_FX_CODE)`; take MSG when it has one.
	if i, j := strings.Index(msg, `"`), strings.LastIndex(msg, `"`); i >= 0 && j > i+1 {
		inner := msg[i+1 : j]
		if k := strings.LastIndex(inner, ": "); k >= 0 {
			inner = inner[k+2:]
		}
		return cleanLine(inner)
	}
	return cleanLine(msg)
}

func pathError(op string, side Side, path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, errIsDir) {
		return &FileError{Op: op, Side: side, Path: path, Err: errIsDir}
	}
	return &FileError{Op: op, Side: side, Path: path, Err: err}
}
