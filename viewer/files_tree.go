package viewer

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/pkg/sftp"
)

// tree is one side of a copy: the technician's file system or the person's over SFTP. Every
// error it returns is a *FileError naming the side and path.
type tree interface {
	side() Side
	stat(p string) (fs.FileInfo, error) // follows links
	readDir(p string) ([]fs.FileInfo, error)
	join(dir, name string) string
	base(p string) string
	open(p string) (io.ReadCloser, error)
	create(p string) (io.WriteCloser, error)
	mkdir(p string) error // an existing directory is fine
	remove(p string) error
	chmod(p string, m fs.FileMode) error
	chtimes(p string, mtime time.Time) error
}

// localTree is the technician's own file system.
type localTree struct{}

func (localTree) side() Side { return Local }

func (localTree) stat(p string) (fs.FileInfo, error) {
	fi, err := os.Stat(p)
	return fi, pathError("stat", Local, p, err)
}

func (localTree) readDir(p string) ([]fs.FileInfo, error) {
	des, err := os.ReadDir(p)
	if err != nil {
		return nil, pathError("list", Local, p, err)
	}
	out := make([]fs.FileInfo, 0, len(des))
	for _, d := range des {
		fi, err := d.Info()
		if err != nil {
			return nil, pathError("stat", Local, filepath.Join(p, d.Name()), err)
		}
		out = append(out, fi)
	}
	return out, nil
}

func (localTree) join(dir, name string) string { return filepath.Join(dir, name) }
func (localTree) base(p string) string         { return filepath.Base(p) }

func (localTree) open(p string) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, pathError("open", Local, p, err)
	}
	return f, nil
}

// create makes the file owner-only until finish gives it the source's mode.
func (localTree) create(p string) (io.WriteCloser, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, pathError("create", Local, p, err)
	}
	return f, nil
}

func (t localTree) mkdir(p string) error {
	err := os.Mkdir(p, 0o700)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(p); serr == nil && fi.IsDir() {
			return nil
		}
		return pathError("mkdir", Local, p, errNotDir)
	}
	return pathError("mkdir", Local, p, err)
}

func (localTree) remove(p string) error { return pathError("remove", Local, p, os.Remove(p)) }

func (localTree) chmod(p string, m fs.FileMode) error {
	return pathError("chmod", Local, p, os.Chmod(p, m))
}

func (localTree) chtimes(p string, mtime time.Time) error {
	return pathError("chtimes", Local, p, os.Chtimes(p, chtimesAccess(), mtime))
}

// remoteTree is the person's file system, over SFTP. Paths are slash-separated whatever the
// person's system: pkg/sftp's server translates them.
type remoteTree struct{ c *sftp.Client }

func (remoteTree) side() Side { return Remote }

func (t remoteTree) stat(p string) (fs.FileInfo, error) {
	fi, err := t.c.Stat(p)
	return fi, pathError("stat", Remote, p, err)
}

func (t remoteTree) readDir(p string) ([]fs.FileInfo, error) {
	fis, err := t.c.ReadDir(p)
	return fis, pathError("list", Remote, p, err)
}

func (remoteTree) join(dir, name string) string { return path.Join(dir, name) }
func (remoteTree) base(p string) string         { return path.Base(p) }

func (t remoteTree) open(p string) (io.ReadCloser, error) {
	f, err := t.c.Open(p)
	if err != nil {
		return nil, pathError("open", Remote, p, err)
	}
	return f, nil
}

func (t remoteTree) create(p string) (io.WriteCloser, error) {
	f, err := t.c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return nil, pathError("create", Remote, p, err)
	}
	return f, nil
}

func (t remoteTree) mkdir(p string) error {
	err := t.c.Mkdir(p)
	if err == nil {
		return nil
	}
	// SFTP v3 has no "exists" code: look before deciding.
	if fi, serr := t.c.Stat(p); serr == nil {
		if fi.IsDir() {
			return nil
		}
		return pathError("mkdir", Remote, p, errNotDir)
	}
	return pathError("mkdir", Remote, p, err)
}

func (t remoteTree) remove(p string) error { return pathError("remove", Remote, p, t.c.Remove(p)) }

func (t remoteTree) chmod(p string, m fs.FileMode) error {
	return pathError("chmod", Remote, p, t.c.Chmod(p, m))
}

func (t remoteTree) chtimes(p string, mtime time.Time) error {
	return pathError("chtimes", Remote, p, t.c.Chtimes(p, chtimesAccess(), mtime))
}

var errNotDir = errors.New("exists and is not a directory")
