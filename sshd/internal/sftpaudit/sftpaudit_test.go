package sftpaudit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/pkg/sftp"
)

// recorder collects reported operations.
type recorder struct {
	mu  sync.Mutex
	ops []Op
}

func (r *recorder) add(op Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
}

// since returns the operations reported after the first n.
func (r *recorder) since(n int) []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops[n:])
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops)
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// session is a real pkg/sftp client talking to a real pkg/sftp server
// through a splice that copies both ways with an Auditor in the middle,
// as the gateway does.
type session struct {
	client  *sftp.Client
	rec     *recorder
	auditor *Auditor
	done    chan struct{}
}

func newSession(t *testing.T, serve func(*testing.T, net.Conn)) *session {
	t.Helper()
	return newGuardedSession(t, serve, nil)
}

// newGuardedSession is newSession with the auditor refusing writes while
// allow says no (RefuseWrites); a nil allow leaves it passive.
func newGuardedSession(t *testing.T, serve func(*testing.T, net.Conn), allow func() error) *session {
	t.Helper()
	techClient, techGW := tcpPair(t)
	agentGW, agentServer := tcpPair(t)
	serve(t, agentServer)

	s := &session{rec: &recorder{}, done: make(chan struct{})}
	s.auditor = NewAuditor(s.rec.add, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if allow != nil {
		s.auditor.RefuseWrites(techGW, allow)
	}
	var copies sync.WaitGroup
	copies.Add(2)
	go func() {
		defer copies.Done()
		io.Copy(s.auditor.ClientToServer(agentGW), techGW)
		agentGW.(*net.TCPConn).CloseWrite()
	}()
	go func() {
		defer copies.Done()
		io.Copy(s.auditor.ServerToClient(techGW), agentGW)
		techGW.(*net.TCPConn).CloseWrite()
	}()
	go func() {
		copies.Wait()
		s.auditor.Close()
		close(s.done)
	}()

	var err error
	s.client, err = sftp.NewClientPipe(techClient, techClient)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.client.Close() })
	return s
}

// servePkgSFTP runs pkg/sftp's server, as assist-agent does.
func servePkgSFTP(t *testing.T, conn net.Conn) {
	server, err := sftp.NewServer(conn)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		server.Serve()
		conn.Close() // the agent's channel closes when its server ends
	}()
}

// serveOpenSSH runs OpenSSH's sftp-server, to check the auditor against
// the other implementation in wide use (its handles, status texts and
// extensions).
func serveOpenSSH(t *testing.T, conn net.Conn) {
	const path = "/usr/lib/openssh/sftp-server"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("OpenSSH's sftp-server is missing (install openssh-server: scripts/deps.sh): %v", err)
	}
	cmd := exec.Command(path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = conn, conn, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		conn.Close()
	}()
}

var servers = []struct {
	name  string
	serve func(*testing.T, net.Conn)
}{{"pkg-sftp", servePkgSFTP}, {"openssh", serveOpenSSH}}

func sum(b []byte) [32]byte { return sha256.Sum256(b) }

func TestRealClientAndServer(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) { testRealSession(t, newSession(t, srv.serve)) })
	}
}

func testRealSession(t *testing.T, s *session) {
	c := s.client
	root := t.TempDir()
	data := make([]byte, 3<<20+12345) // several 32 KiB packets, concurrent writes and reads
	rand.Read(data)
	up := filepath.Join(root, "up.bin")

	step := func(name string, do func() error, want ...Op) {
		t.Helper()
		n := s.rec.count()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := s.rec.since(n); !slices.Equal(got, want) {
			t.Errorf("%s: reported\n %+v\nwant\n %+v", name, got, want)
		}
	}

	step("put", func() error {
		f, err := c.Create(up)
		if err != nil {
			return err
		}
		if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
			return err
		}
		return f.Close()
	},
		Op{Kind: KindOpenWrite, Path: up, Detail: "read,write,create,truncate"},
		Op{Kind: KindClose, Path: up, Bytes: int64(len(data)), Written: int64(len(data))})
	if onDisk, err := os.ReadFile(up); err != nil || sum(onDisk) != sum(data) {
		t.Fatalf("uploaded file differs from the original (err %v)", err)
	}

	step("get", func() error {
		f, err := c.Open(up)
		if err != nil {
			return err
		}
		h := sha256.New()
		if _, err := f.WriteTo(h); err != nil {
			return err
		}
		if [32]byte(h.Sum(nil)) != sum(data) {
			return errors.New("downloaded file differs from the original")
		}
		return f.Close()
	},
		Op{Kind: KindOpenRead, Path: up, Detail: "read"},
		Op{Kind: KindClose, Path: up, Bytes: int64(len(data)), Read: int64(len(data))})

	moved, moved2 := filepath.Join(root, "moved.bin"), filepath.Join(root, "moved2.bin")
	step("rename", func() error { return c.Rename(up, moved) },
		Op{Kind: KindRename, Path: up, Target: moved})
	step("posix-rename", func() error { return c.PosixRename(moved, moved2) },
		Op{Kind: KindRename, Path: moved, Target: moved2})
	step("chmod", func() error { return c.Chmod(moved2, 0o600) },
		Op{Kind: KindSetstat, Path: moved2, Detail: "mode=0600"})
	step("fchmod", func() error {
		f, err := c.OpenFile(moved2, os.O_WRONLY)
		if err != nil {
			return err
		}
		if err := f.Chmod(0o640); err != nil {
			return err
		}
		return f.Close()
	},
		Op{Kind: KindOpenWrite, Path: moved2, Detail: "write"},
		Op{Kind: KindFsetstat, Path: moved2, Detail: "mode=0640"},
		Op{Kind: KindClose, Path: moved2})
	link := filepath.Join(root, "link")
	step("symlink", func() error { return c.Symlink(moved2, link) },
		Op{Kind: KindSymlink, Path: link, Target: moved2})
	step("remove", func() error { return c.Remove(moved2) },
		Op{Kind: KindRemove, Path: moved2})
	dir := filepath.Join(root, "d")
	step("mkdir", func() error { return c.Mkdir(dir) },
		Op{Kind: KindMkdir, Path: dir})
	step("readdir", func() error { _, err := c.ReadDir(root); return err },
		Op{Kind: KindOpendir, Path: root})
	step("rmdir", func() error { return c.RemoveDirectory(dir) },
		Op{Kind: KindRmdir, Path: dir})

	missing := filepath.Join(root, "missing")
	n := s.rec.count()
	if err := c.Remove(missing); err == nil {
		t.Fatal("removing a missing file succeeded")
	}
	got := s.rec.since(n)
	if len(got) < 1 || got[0].Kind != KindRemove || got[0].Path != missing || got[0].Err == "" {
		t.Errorf("failed remove reported as %+v", got)
	}

	// A file left open when the stream ends is reported with its counts.
	f, err := c.Create(filepath.Join(root, "left-open"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	n = s.rec.count()
	c.Close()
	<-s.done
	want := []Op{{Kind: KindClose, Path: filepath.Join(root, "left-open"), Bytes: 5, Written: 5, Err: "not closed before the stream ended"}}
	if got := s.rec.since(n); !slices.Equal(got, want) {
		t.Errorf("at stream end reported\n %+v\nwant\n %+v", got, want)
	}
}

func TestFailedOpenReportsServerStatus(t *testing.T) {
	s := newSession(t, servePkgSFTP)
	missing := filepath.Join(t.TempDir(), "nope", "file")
	if _, err := s.client.Open(missing); err == nil {
		t.Fatal("opening a missing file succeeded")
	}
	got := s.rec.since(0)
	if len(got) != 1 || got[0].Kind != KindOpenRead || got[0].Path != missing || got[0].Err == "" {
		t.Fatalf("reported %+v, want one failed open-read of %s", got, missing)
	}
	t.Logf("failed open: %+v", got[0])
}
