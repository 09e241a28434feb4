package viewer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/pkg/sftp"
)

// CopyOptions adjust Get and Put.
type CopyOptions struct {
	// Recursive copies directories with everything in them (cp -r); without it a directory
	// source is an error.
	Recursive bool
	// Progress, if set, hears every chunk copied. It is called from the copying goroutine, so it
	// must be quick.
	Progress func(CopyProgress)
	// Skipped, if set, hears each entry that a recursive copy leaves out (a socket, a device, a
	// link to a directory or a dangling link), with the reason.
	Skipped func(path, reason string)
}

// CopyProgress is how far a copy is. Totals are known before the first byte moves, because the
// sources are walked first.
type CopyProgress struct {
	Path       string // the source file being copied
	FileDone   int64
	FileSize   int64
	Done       int64 // bytes done in all files
	Total      int64 // bytes in all files
	FilesDone  int   // files finished
	FilesTotal int
}

// CopyStats says what a copy did.
type CopyStats struct {
	Files int   `json:"files"`
	Dirs  int   `json:"dirs"`
	Bytes int64 `json:"bytes"`
}

// Get copies remote sources to the local dst, like scp: with several sources dst must be an
// existing directory; with one, an existing directory receives it under its own name and any
// other dst is the copy's name. Files keep their permission bits (rwx, not setuid) and
// modification time (to the second: SFTP v3 carries whole seconds). A file that fails midway is
// removed unless it existed before.
func (f *Files) Get(ctx context.Context, srcs []string, dst string, o CopyOptions) (CopyStats, error) {
	return runCopy(ctx, remoteTree{f.c}, localTree{}, srcs, dst, o)
}

// Put copies local sources to the remote dst, as Get does the other way.
func (f *Files) Put(ctx context.Context, srcs []string, dst string, o CopyOptions) (CopyStats, error) {
	return runCopy(ctx, localTree{}, remoteTree{f.c}, srcs, dst, o)
}

// copyItem is one file or directory to make, found by walking the sources.
type copyItem struct {
	src, dst string
	info     fs.FileInfo
}

type copier struct {
	ctx      context.Context
	src, dst tree
	o        CopyOptions
	items    []copyItem
	prog     CopyProgress
	stats    CopyStats
}

func runCopy(ctx context.Context, src, dst tree, srcs []string, dst0 string, o CopyOptions) (CopyStats, error) {
	if len(srcs) == 0 {
		return CopyStats{}, errors.New("nothing to copy")
	}
	c := &copier{ctx: ctx, src: src, dst: dst, o: o}
	if err := c.plan(srcs, dst0); err != nil {
		return CopyStats{}, err
	}
	err := c.run()
	return c.stats, err
}

// plan walks every source and decides every destination before anything is written, so that a
// missing source fails the copy before it starts and progress knows the total.
func (c *copier) plan(srcs []string, dst string) error {
	if dst == "" {
		dst = "."
	}
	di, err := c.dst.stat(dst)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dstIsDir := err == nil && di.IsDir()
	if len(srcs) > 1 && !dstIsDir {
		if err != nil {
			return pathError("copy into", c.dst.side(), dst, fmt.Errorf("no such directory (copying %d sources needs an existing directory)", len(srcs)))
		}
		return pathError("copy into", c.dst.side(), dst, fmt.Errorf("not a directory (copying %d sources needs one)", len(srcs)))
	}
	if !dstIsDir && strings.HasSuffix(dst, "/") {
		return pathError("copy into", c.dst.side(), dst, fmt.Errorf("no such directory"))
	}
	for _, s := range srcs {
		if s == "" {
			s = "."
		}
		fi, err := c.src.stat(s)
		if err != nil {
			return err
		}
		target := dst
		if dstIsDir {
			if b := c.src.base(s); b != "." && b != ".." && b != "/" && b != "" {
				target = c.dst.join(dst, b)
			}
		}
		switch {
		case fi.IsDir() && !c.o.Recursive:
			return pathError("copy", c.src.side(), s, fmt.Errorf("is a directory (copy directories with -r)"))
		case fi.IsDir():
			if err := c.walk(s, target, fi); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			c.add(s, target, fi)
		default:
			return pathError("copy", c.src.side(), s, fmt.Errorf("not a regular file (%s)", fi.Mode().Type()))
		}
	}
	return nil
}

func (c *copier) add(src, dst string, fi fs.FileInfo) {
	c.items = append(c.items, copyItem{src: src, dst: dst, info: fi})
	if !fi.IsDir() {
		c.prog.Total += fi.Size()
		c.prog.FilesTotal++
	}
}

func (c *copier) walk(src, dst string, fi fs.FileInfo) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	c.add(src, dst, fi)
	entries, err := c.src.readDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		// The other computer chooses these names: one with a separator or a dot-dot would write
		// outside the destination.
		if !safeName(name) {
			return pathError("list", c.src.side(), src, fmt.Errorf("unsafe entry name %q", name))
		}
		p, q := c.src.join(src, name), c.dst.join(dst, name)
		if e.Mode()&fs.ModeSymlink != 0 {
			t, err := c.src.stat(p)
			if err != nil {
				c.skip(p, "dangling link")
				continue
			}
			if t.IsDir() {
				c.skip(p, "link to a directory")
				continue
			}
			e = t
		}
		switch {
		case e.IsDir():
			if err := c.walk(p, q, e); err != nil {
				return err
			}
		case e.Mode().IsRegular():
			c.add(p, q, e)
		default:
			c.skip(p, "not a regular file ("+e.Mode().Type().String()+")")
		}
	}
	return nil
}

func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

func (c *copier) skip(p, reason string) {
	if c.o.Skipped != nil {
		c.o.Skipped(p, reason)
	}
}

// run makes directories and copies files in walk order (parents first), then gives each
// directory its mode and time, deepest first, since writing into a directory changes its time
// and a read-only mode would stop the writes.
func (c *copier) run() error {
	var dirs []copyItem
	for _, it := range c.items {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		if it.info.IsDir() {
			if err := c.dst.mkdir(it.dst); err != nil {
				return err
			}
			dirs = append(dirs, it)
			c.stats.Dirs++
			continue
		}
		if err := c.copyFile(it); err != nil {
			return err
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := c.finish(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) copyFile(it copyItem) error {
	_, statErr := c.dst.stat(it.dst)
	existed := statErr == nil
	c.prog.Path, c.prog.FileDone, c.prog.FileSize = it.src, 0, it.info.Size()
	base := c.prog.Done
	report := func(n int64) {
		c.prog.FileDone, c.prog.Done = n, base+n
		if c.o.Progress != nil {
			c.o.Progress(c.prog)
		}
	}
	report(0)
	n, err := copyData(c.ctx, c.src, c.dst, it, report)
	if err != nil {
		if !existed {
			c.dst.remove(it.dst)
		}
		return err
	}
	// The file may have grown or shrunk since the walk; count what was copied.
	c.prog.Total += n - it.info.Size()
	c.prog.Done = base + n
	c.prog.FilesDone++
	c.stats.Files++
	c.stats.Bytes += n
	if err := c.finish(it); err != nil {
		return err
	}
	if c.o.Progress != nil {
		c.o.Progress(c.prog)
	}
	return nil
}

// finish gives the copy the source's permission bits and modification time. setuid, setgid
// and sticky bits are left out: a copy should not gain privileges on the other computer.
func (c *copier) finish(it copyItem) error {
	if err := c.dst.chmod(it.dst, it.info.Mode().Perm()); err != nil {
		return err
	}
	return c.dst.chtimes(it.dst, it.info.ModTime())
}

// copyData moves one file's bytes with the remote side's concurrent reads or writes (64 requests
// of 32 KiB in flight), naming whichever side failed.
func copyData(ctx context.Context, src, dst tree, it copyItem, report func(int64)) (int64, error) {
	r, err := src.open(it.src)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := dst.create(it.dst)
	if err != nil {
		return 0, err
	}
	var n int64
	switch rf := r.(type) {
	case *sftp.File: // download
		cw := &countingWriter{ctx: ctx, w: w, report: report}
		n, err = rf.WriteTo(cw)
		if err != nil {
			w.Close()
			if cw.werr != nil {
				return n, localOrCtx(ctx, "write", dst, it.dst, cw.werr)
			}
			return n, pathError("read", Remote, it.src, err)
		}
	default: // upload
		wf := w.(*sftp.File)
		cr := &countingReader{ctx: ctx, r: r, report: report}
		n, err = wf.ReadFromWithConcurrency(cr, concurrentRequests)
		if err != nil {
			w.Close()
			if cr.rerr != nil {
				return n, localOrCtx(ctx, "read", src, it.src, cr.rerr)
			}
			return n, pathError("write", Remote, it.dst, err)
		}
	}
	if err := w.Close(); err != nil {
		return n, pathError("write", dst.side(), it.dst, err)
	}
	return n, nil
}

func localOrCtx(ctx context.Context, op string, t tree, p string, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	return pathError(op, t.side(), p, err)
}

// chtimesAccess is the access time a copy gets: now, since the copy just read the source.
func chtimesAccess() time.Time { return time.Now() }
