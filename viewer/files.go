package viewer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/sftppacket"
)

// maxPacket is the SFTP data size per request. Larger packets silently corrupted data against
// pkg/sftp's server, so it stays under the 32 KiB every SFTP server must accept, by enough that a
// whole read reply or write request (data and header) fits one 32 KiB SSH packet: at 32 KiB
// exactly, every request would cost a second SSH packet of a few bytes on each hop.
const maxPacket = 32<<10 - 64

// concurrentRequests is how many reads or writes of one file are in flight: 64 × 32 KiB keeps
// the 2 MiB SSH channel window full across the gateway's two hops.
const concurrentRequests = 64

// Files is an SFTP client on the person's file system, opened on a one-time session (or any SSH
// connection whose server offers the sftp subsystem). Its methods are safe for concurrent use.
type Files struct {
	c       *sftp.Client
	sess    *ssh.Session
	stderr  *lockedBuffer
	closeMu sync.Once
}

// Files opens the SFTP subsystem on the session. When the gateway or the agent refuses it (the
// person did not allow files), the error says so in their words.
func (s *Session) Files() (*Files, error) {
	f, err := OpenFiles(s.Client)
	if err != nil && s.EndReason() != "" {
		return nil, fmt.Errorf("%w (session ended: %s)", err, s.EndReason())
	}
	return f, err
}

// OpenFiles starts the sftp subsystem on c.
func OpenFiles(c *ssh.Client) (*Files, error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, fmt.Errorf("open file session: %w", err)
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("open file session: %w", err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("open file session: %w", err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("open file session: %w", err)
	}
	buf := &lockedBuffer{done: make(chan struct{})}
	go buf.fill(stderr)
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return nil, refused(sess, buf, fmt.Errorf("file access refused: %w", err))
	}
	c2, err := sftp.NewClientPipe(r, packetWriteCloser{sftppacket.NewWriter(w), w},
		sftp.MaxPacket(maxPacket),
		sftp.MaxConcurrentRequestsPerFile(concurrentRequests),
		sftp.UseConcurrentReads(true),
		sftp.UseConcurrentWrites(true),
		sftp.UseFstat(true),
	)
	if err != nil {
		// The gateway accepts the subsystem when it will not serve files, writes why on
		// stderr and ends the channel, so that OpenSSH's sftp shows the reason too.
		return nil, refused(sess, buf, fmt.Errorf("start sftp: %w", err))
	}
	return &Files{c: c2, sess: sess, stderr: buf}, nil
}

// refused explains a file session that did not start: in the server's words when it wrote
// why on stderr before ending the channel (waiting for that briefly: a server that fails
// without closing must not hang the caller), else err.
func refused(sess *ssh.Session, stderr *lockedBuffer, err error) error {
	select {
	case <-stderr.done:
	case <-time.After(5 * time.Second):
	}
	sess.Close()
	why := cleanLine(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "assistd: "))
	if why == "" {
		return err
	}
	return fmt.Errorf("file access refused: %s", why)
}

// cleanLine keeps a message from the network printable: no escape codes reach the terminal.
func cleanLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// Close ends the SFTP session.
func (f *Files) Close() error {
	var err error
	f.closeMu.Do(func() {
		err = f.c.Close()
		f.sess.Close()
	})
	return err
}

// Client is the underlying pkg/sftp client, for operations this API does not wrap.
func (f *Files) Client() *sftp.Client { return f.c }

// Entry is a file as the files panel shows it.
type Entry struct {
	Name    string      `json:"name"`
	Size    int64       `json:"size"`
	Mode    fs.FileMode `json:"mode"`
	ModTime time.Time   `json:"mtime"`
	IsDir   bool        `json:"is_dir"`
}

func entryOf(fi fs.FileInfo) Entry {
	return Entry{Name: fi.Name(), Size: fi.Size(), Mode: fi.Mode(), ModTime: fi.ModTime(), IsDir: fi.IsDir()}
}

// List lists a remote directory, directories first, then by name. An empty dir means the
// directory the agent's SFTP server starts in (the person's home).
func (f *Files) List(ctx context.Context, dir string) ([]Entry, error) {
	dir = remoteDir(dir)
	infos, err := f.c.ReadDirContext(ctx, dir)
	if err != nil {
		return nil, pathError("list", Remote, dir, err)
	}
	out := make([]Entry, 0, len(infos))
	for _, fi := range infos {
		e := entryOf(fi)
		if fi.Mode()&fs.ModeSymlink != 0 {
			// A link to a directory opens like one in the panel.
			if t, err := f.c.Stat(path.Join(dir, fi.Name())); err == nil {
				e.IsDir = t.IsDir()
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if a.IsDir != b.IsDir {
			if a.IsDir {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Stat describes one remote file, following links.
func (f *Files) Stat(ctx context.Context, p string) (Entry, error) {
	p = remoteDir(p)
	fi, err := f.c.Stat(p)
	if err != nil {
		return Entry{}, pathError("stat", Remote, p, err)
	}
	return entryOf(fi), nil
}

// Home is the absolute path of the directory the agent's SFTP server starts in.
func (f *Files) Home(ctx context.Context) (string, error) {
	p, err := f.c.RealPath(".")
	if err != nil {
		return "", pathError("resolve", Remote, ".", err)
	}
	return p, nil
}

func remoteDir(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// ProgressFunc hears how many bytes of total are done; total is -1 when unknown. It is called
// from the copying goroutine for every chunk, so it must be quick.
type ProgressFunc func(done, total int64)

// Download writes the remote file p to w and returns the bytes written. Reads run concurrently;
// cancelling ctx stops the copy.
func (f *Files) Download(ctx context.Context, p string, w io.Writer, progress ProgressFunc) (int64, error) {
	r, err := f.c.Open(p)
	if err != nil {
		return 0, pathError("open", Remote, p, err)
	}
	defer r.Close()
	fi, err := r.Stat()
	if err != nil {
		return 0, pathError("stat", Remote, p, err)
	}
	if fi.IsDir() {
		return 0, pathError("download", Remote, p, errIsDir)
	}
	total := fi.Size()
	cw := &countingWriter{ctx: ctx, w: w, report: func(n int64) { callProgress(progress, n, total) }}
	n, err := r.WriteTo(cw)
	if err != nil {
		if cw.werr != nil {
			return n, cw.werr // the local side's error, already named by the caller's writer
		}
		return n, pathError("read", Remote, p, err)
	}
	return n, nil
}

// Upload writes r to the remote file p (created or truncated, then given mode's permission bits)
// and returns the bytes written. size is r's length if known (-1 if not), for progress only.
func (f *Files) Upload(ctx context.Context, p string, r io.Reader, size int64, mode fs.FileMode, progress ProgressFunc) (int64, error) {
	w, err := f.c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return 0, pathError("create", Remote, p, err)
	}
	cr := &countingReader{ctx: ctx, r: r, report: func(n int64) { callProgress(progress, n, size) }}
	n, err := w.ReadFromWithConcurrency(cr, concurrentRequests)
	if err != nil {
		w.Close()
		if cr.rerr != nil {
			return n, cr.rerr
		}
		return n, pathError("write", Remote, p, err)
	}
	if err := w.Close(); err != nil {
		return n, pathError("write", Remote, p, err)
	}
	if mode != 0 {
		if err := f.c.Chmod(p, mode.Perm()); err != nil {
			return n, pathError("chmod", Remote, p, err)
		}
	}
	return n, nil
}

// Mkdir makes a remote directory.
func (f *Files) Mkdir(ctx context.Context, p string) error {
	if err := f.c.Mkdir(p); err != nil {
		return pathError("mkdir", Remote, p, err)
	}
	return nil
}

// Remove removes a remote file or empty directory.
func (f *Files) Remove(ctx context.Context, p string) error {
	if err := f.c.Remove(p); err != nil {
		return pathError("remove", Remote, p, err)
	}
	return nil
}

// Rename renames a remote file.
func (f *Files) Rename(ctx context.Context, from, to string) error {
	if err := f.c.Rename(from, to); err != nil {
		return pathError("rename", Remote, from, err)
	}
	return nil
}

var errIsDir = errors.New("is a directory")

func callProgress(p ProgressFunc, done, total int64) {
	if p != nil {
		p(done, total)
	}
}

// countingWriter counts bytes for progress and stops the copy when ctx is done; werr keeps the
// writer's own error apart from the remote side's.
type countingWriter struct {
	ctx    context.Context
	w      io.Writer
	n      int64
	report func(int64)
	werr   error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		c.werr = err
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.report(c.n)
	if err != nil {
		c.werr = err
	}
	return n, err
}

// countingReader is countingWriter's twin for uploads.
type countingReader struct {
	ctx    context.Context
	r      io.Reader
	n      int64
	report func(int64)
	rerr   error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		c.rerr = err
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 {
		c.report(c.n)
	}
	if err != nil && err != io.EOF {
		c.rerr = err
	}
	return n, err
}

// lockedBuffer keeps the first 4 KiB of the server's stderr, read in another goroutine; the
// rest is drained and dropped so that stderr never stalls the channel.
type lockedBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	done chan struct{} // closed at the stderr's EOF
}

func (l *lockedBuffer) fill(stderr io.Reader) {
	io.Copy(l, stderr)
	close(l.done)
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4<<10 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// packetWriteCloser gathers writes into whole SFTP packets and closes what it writes to.
type packetWriteCloser struct {
	io.Writer
	io.Closer
}
