package sftpaudit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
)

var errReadOnly = errors.New("the person allowed files-ro")

func readOnly() error { return errReadOnly }

// tree describes every entry under root: what a refused write must leave as it was.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			desc += fmt.Sprintf(" %x", sum(b))
		}
		m[p] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRefuseWritesRealClientAndServer drives every write-class operation
// pkg/sftp's client has against a permissive server (pkg/sftp's or
// OpenSSH's sftp-server, neither told to be read-only) through a guarded
// auditor: each is refused with permission denied, reported, and the
// server's disk is unchanged; reads still work.
func TestRefuseWritesRealClientAndServer(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := newGuardedSession(t, srv.serve, readOnly)
			c := s.client
			root := t.TempDir()
			file, dir, link := filepath.Join(root, "f.txt"), filepath.Join(root, "d"), filepath.Join(root, "l")
			os.WriteFile(file, []byte("the person's file\n"), 0o644)
			os.Mkdir(dir, 0o755)
			os.Symlink(file, link)
			before := tree(t, root)

			withReadHandle := func(do func(*sftp.File) error) func() error {
				return func() error {
					f, err := c.Open(file)
					if err != nil {
						return fmt.Errorf("open for reading: %w", err)
					}
					defer f.Close()
					return do(f)
				}
			}
			openFlags := func(flags int) func() error {
				return func() error {
					f, err := c.OpenFile(file, flags)
					if err == nil {
						f.Close()
					}
					return err
				}
			}
			for _, w := range []struct {
				name string
				do   func() error
				kind string
			}{
				{"create", func() error { _, err := c.Create(filepath.Join(root, "new")); return err }, KindOpenWrite},
				{"open write", openFlags(os.O_WRONLY), KindOpenWrite},
				{"open append", openFlags(os.O_WRONLY | os.O_APPEND), KindOpenWrite},
				{"open truncate", openFlags(os.O_RDONLY | os.O_TRUNC), KindOpenWrite},
				{"open create", openFlags(os.O_RDONLY | os.O_CREATE), KindOpenWrite},
				{"write on a read handle", withReadHandle(func(f *sftp.File) error { _, err := f.WriteAt([]byte("x"), 0); return err }), KindWrite},
				{"fchmod on a read handle", withReadHandle(func(f *sftp.File) error { return f.Chmod(0o600) }), KindFsetstat},
				{"ftruncate on a read handle", withReadHandle(func(f *sftp.File) error { return f.Truncate(0) }), KindFsetstat},
				{"remove", func() error { return c.Remove(file) }, KindRemove},
				{"rename", func() error { return c.Rename(file, file+".2") }, KindRename},
				{"posix-rename", func() error { return c.PosixRename(file, file+".2") }, KindRename},
				{"mkdir", func() error { return c.Mkdir(filepath.Join(root, "new-dir")) }, KindMkdir},
				{"rmdir", func() error { return c.RemoveDirectory(dir) }, KindRmdir},
				{"chmod", func() error { return c.Chmod(file, 0o600) }, KindSetstat},
				{"chown", func() error { return c.Chown(file, 65534, 65534) }, KindSetstat},
				{"chtimes", func() error { return c.Chtimes(file, time.Unix(1, 0), time.Unix(1, 0)) }, KindSetstat},
				{"truncate", func() error { return c.Truncate(file, 0) }, KindSetstat},
				{"symlink", func() error { return c.Symlink(file, filepath.Join(root, "l2")) }, KindSymlink},
				{"hardlink", func() error { return c.Link(file, filepath.Join(root, "h")) }, KindHardlink},
			} {
				n := s.rec.count()
				err := w.do()
				// pkg/sftp's client turns the status into fs.ErrPermission, dropping
				// the message; TestRefuseWritesPackets checks the message.
				if !errors.Is(err, fs.ErrPermission) {
					t.Errorf("%s: %v, want permission denied", w.name, err)
				}
				var refused []Op
				for _, op := range s.rec.since(n) {
					if op.Refused {
						refused = append(refused, op)
					}
				}
				// pkg/sftp's Remove tries rmdir when remove fails: one refusal each.
				if len(refused) == 0 || refused[0].Kind != w.kind || slices.ContainsFunc(refused, func(op Op) bool {
					return op.Path == "" || op.Err != "permission denied: "+errReadOnly.Error()
				}) {
					t.Errorf("%s: refusals reported %+v, want a %s first, each with its path", w.name, refused, w.kind)
				}
			}
			if after := tree(t, root); !maps(after, before) {
				t.Errorf("the server's disk changed under refused writes:\nbefore %v\nafter  %v", before, after)
			}

			// Reads go on: open, read, list, stat, readlink, realpath, statvfs.
			f, err := c.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(f); err != nil || string(b) != "the person's file\n" {
				t.Fatalf("read: %q, %v", b, err)
			}
			f.Close()
			if _, err := c.ReadDir(root); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Lstat(link); err != nil {
				t.Fatal(err)
			}
			if target, err := c.ReadLink(link); err != nil || target != file {
				t.Fatalf("readlink: %q, %v", target, err)
			}
			if _, err := c.RealPath("."); err != nil {
				t.Fatal(err)
			}
			if _, err := c.StatVFS(root); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRefuseWritesAfterNarrowing: a grant narrowed during the session
// refuses from the next request on, on a handle opened while it was wide.
func TestRefuseWritesAfterNarrowing(t *testing.T) {
	var narrowed atomic.Bool
	s := newGuardedSession(t, servePkgSFTP, func() error {
		if narrowed.Load() {
			return errReadOnly
		}
		return nil
	})
	p := filepath.Join(t.TempDir(), "f")
	f, err := s.client.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("before")); err != nil {
		t.Fatal(err)
	}
	narrowed.Store(true)
	if _, err := f.Write([]byte(" after")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("write after narrowing: %v, want permission denied", err)
	}
	f.Close()
	if b, _ := os.ReadFile(p); string(b) != "before" {
		t.Fatalf("file holds %q, want only what was written before narrowing", b)
	}
}

// guarded is a guarded auditor between buffers: what the client sends
// (c2s), what reaches the server and what reaches the client.
type guarded struct {
	a              *Auditor
	ops            []Op
	server, client bytes.Buffer
	wc, ws         io.Writer
}

func newGuarded(allow func() error) *guarded {
	g := &guarded{}
	g.a = NewAuditor(func(op Op) { g.ops = append(g.ops, op) }, nil)
	g.a.RefuseWrites(&g.client, allow)
	g.wc, g.ws = g.a.ClientToServer(&g.server), g.a.ServerToClient(&g.client)
	return g
}

// send writes b client to server in chunks of size.
func (g *guarded) send(b []byte, size int) error {
	for len(b) > 0 {
		n := min(size, len(b))
		if _, err := g.wc.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// writeRequests are write-class requests of every kind, raw, including
// the extensions pkg/sftp's client cannot send and a packet type SFTP v3
// does not have.
func writeRequests() [][]byte {
	return [][]byte{
		pkt(fxpOpen, 10, "/f", fxfWrite, 0),
		pkt(fxpOpen, 11, "/f", fxfRead|fxfAppend, 0),
		pkt(fxpOpen, 12, "/f", fxfRead|fxfCreat|0x20, 0),
		pkt(fxpOpen, 13, "/f", fxfRead|fxfTrunc, 0),
		pkt(fxpWrite, 14, "h", uint64(0), strings.Repeat("w", 40000)),
		pkt(fxpRemove, 15, "/f"),
		pkt(fxpRename, 16, "/f", "/g"),
		pkt(fxpMkdir, 17, "/d", 0),
		pkt(fxpRmdir, 18, "/d"),
		pkt(fxpSetstat, 19, "/f", attrPermissions, 0o777),
		pkt(fxpFsetstat, 20, "h", attrSize, uint64(0)),
		pkt(fxpSymlink, 21, "/f", "/l"),
		pkt(fxpExtended, 22, "posix-rename@openssh.com", "/f", "/g"),
		pkt(fxpExtended, 23, "hardlink@openssh.com", "/f", "/h"),
		pkt(fxpExtended, 24, "lsetstat@openssh.com", "/l", attrPermissions, 0o777),
		pkt(fxpExtended, 25, "copy-data", "h", uint64(0), uint64(0), "h2", uint64(0)),
		pkt(fxpExtended, 26, "evil@example.org", "/f"),
		pkt(99, 27, "/f"),
		pkt(fxpData, 28, "x"),
	}
}

// readRequests are requests that change nothing.
func readRequests() [][]byte {
	return [][]byte{
		pkt(fxpOpen, 1, "/f", fxfRead, 0),
		pkt(fxpRead, 2, "h", uint64(0), 32768),
		pkt(fxpClose, 3, "h"),
		pkt(fxpStat, 4, "/f"),
		pkt(fxpLstat, 5, "/f"),
		pkt(fxpFstat, 6, "h"),
		pkt(fxpOpendir, 7, "/"),
		pkt(fxpReaddir, 8, "h"),
		pkt(fxpRealpath, 9, "."),
		pkt(fxpReadlink, 30, "/l"),
		pkt(fxpExtended, 31, "statvfs@openssh.com", "/"),
		pkt(fxpExtended, 32, "limits@openssh.com"),
	}
}

func TestRefuseWritesPackets(t *testing.T) {
	reads, writes := readRequests(), writeRequests()
	var in []byte
	for i := range max(len(reads), len(writes)) {
		if i < len(writes) {
			in = append(in, writes[i]...)
		}
		if i < len(reads) {
			in = append(in, reads[i]...)
		}
	}
	in = append(pkt(fxpInit, 3), in...)
	wantServer := slices.Concat(append([][]byte{pkt(fxpInit, 3)}, reads...)...)
	var wantClient []byte
	for i := range writes {
		wantClient = appendStatus(wantClient, uint32(10+i), fxPermissionDenied, errReadOnly.Error())
	}
	for _, size := range []int{1, 2, 3, 5, 7, 64, 1 << 20} {
		g := newGuarded(readOnly)
		if err := g.send(in, size); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(g.server.Bytes(), wantServer) {
			t.Errorf("size %d: the server got %d bytes, want exactly the %d of the read requests", size, g.server.Len(), len(wantServer))
		}
		if !bytes.Equal(g.client.Bytes(), wantClient) {
			t.Errorf("size %d: the client got %q\nwant %q", size, g.client.Bytes(), wantClient)
		}
		refused := 0
		for _, op := range g.ops {
			if op.Refused {
				refused++
			}
		}
		if refused != len(writes) {
			t.Errorf("size %d: %d refusals reported, want %d: %+v", size, refused, len(writes), g.ops)
		}
	}
}

// TestRefusalWaitsForServerPacket: a refusal never lands inside a reply
// the server is half-way through sending.
func TestRefusalWaitsForServerPacket(t *testing.T) {
	g := newGuarded(readOnly)
	g.send(slices.Concat(pkt(fxpInit, 3), pkt(fxpOpen, 1, "/f", fxfRead, 0), pkt(fxpRead, 2, "h", uint64(0), 32768)), 1<<20)
	g.ws.Write(slices.Concat(pkt(fxpVersion, 3), pkt(fxpHandle, 1, "h")))
	data := pkt(fxpData, 2, strings.Repeat("d", 30000))
	g.ws.Write(data[:1000])
	g.send(pkt(fxpRemove, 3, "/f"), 1<<20)
	if bytes.Contains(g.client.Bytes(), []byte{fxpStatus, 0, 0, 0, 3}) {
		t.Fatal("the refusal was written inside the server's DATA packet")
	}
	g.ws.Write(data[1000:])
	want := slices.Concat(pkt(fxpVersion, 3), pkt(fxpHandle, 1, "h"), data, appendStatus(nil, 3, fxPermissionDenied, errReadOnly.Error()))
	if !bytes.Equal(g.client.Bytes(), want) {
		t.Fatalf("the client got %d bytes, want the server's packets whole, then the refusal", g.client.Len())
	}
}

// TestRefuseWritesFailsClosed: a stream the guard cannot follow is cut off
// while writing is not allowed, and passed through while it is.
func TestRefuseWritesFailsClosed(t *testing.T) {
	garbage := []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"oversized packet", garbage},
		{"truncated field", func() []byte { p := pkt(fxpRemove, 9, "/x"); binary.BigEndian.PutUint32(p, 6); return p[:4+6] }()},
		{"write request with too little data", func() []byte {
			p := pkt(fxpWrite, 9, "h", uint64(0), "0123456789")
			binary.BigEndian.PutUint32(p, uint32(len(p)-4-5))
			return p[:len(p)-5]
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuarded(readOnly)
			g.send(pkt(fxpInit, 3), 100)
			sent := g.server.Len()
			if err := g.send(slices.Concat(tt.in, pkt(fxpRemove, 10, "/f")), 3); err == nil {
				t.Fatal("an unparseable stream went on under a read-only grant")
			}
			if g.server.Len() != sent {
				t.Fatalf("%d bytes reached the server after the stream stopped making sense", g.server.Len()-sent)
			}
			if _, err := g.wc.Write(pkt(fxpRemove, 11, "/f")); err == nil {
				t.Fatal("a later write went on")
			}
		})
	}
	g := newGuarded(func() error { return nil })
	in := slices.Concat(pkt(fxpInit, 3), garbage, pkt(fxpRemove, 10, "/f"))
	if err := g.send(in, 3); err != nil || !bytes.Equal(g.server.Bytes(), in) {
		t.Fatalf("with writing allowed an unparseable stream passes through: %v, %d of %d bytes", err, g.server.Len(), len(in))
	}
}

// FuzzRefuseWrites feeds arbitrary client bytes, split at arbitrary points,
// through a guard that refuses writes, with arbitrary server bytes between,
// and checks that nothing panics and that what reaches the server is only
// whole packets that change nothing.
func FuzzRefuseWrites(f *testing.F) {
	for _, p := range writeRequests() {
		f.Add(slices.Concat(pkt(fxpInit, 3), p, readRequests()[0]), []byte{}, []byte{3})
	}
	c2s, s2c := sampleSession()
	f.Add(c2s, s2c, []byte{1, 7, 200, 3})
	f.Add(slices.Concat(readRequests()...), []byte{0, 0, 0, 9, fxpData, 0, 0}, []byte{5})
	f.Fuzz(func(t *testing.T, c2s, s2c, cuts []byte) {
		if len(cuts) == 0 {
			cuts = []byte{0}
		}
		g := newGuarded(readOnly)
		for i := 0; len(c2s) > 0; i++ {
			n := min(len(c2s), int(cuts[i%len(cuts)])+1)
			if _, err := g.wc.Write(c2s[:n]); err != nil {
				break
			}
			c2s = c2s[n:]
			if k := min(len(s2c), int(cuts[(i+1)%len(cuts)])); k > 0 {
				g.ws.Write(s2c[:k])
				s2c = s2c[k:]
			}
		}
		s := newState()
		check := framer{packet: func(body []byte, length uint32) error {
			if uint32(len(body)) != length && body[0] != fxpWrite {
				return fmt.Errorf("packet cut short")
			}
			d := &decoder{b: body}
			typ := d.u8()
			if typ == fxpInit {
				return nil
			}
			d.u32()
			if p := s.decodeRequest(typ, d, length); d.bad || changes(typ, p) {
				return fmt.Errorf("packet type %d reached the server", typ)
			}
			return nil
		}}
		if err := check.feed(g.server.Bytes()); err != nil || !check.between() {
			t.Fatalf("the server got what a read-only grant refuses: %v (between packets: %v)", err, check.between())
		}
	})
}

// BenchmarkUploadGuarded is BenchmarkUpload with the guard on and writing
// allowed: what a files grant costs on the bulk path.
func BenchmarkUploadGuarded(b *testing.B) {
	a := NewAuditor(func(Op) {}, nil)
	a.RefuseWrites(io.Discard, func() error { return nil })
	w := a.ClientToServer(io.Discard)
	w.Write(pkt(fxpInit, 3))
	packet := pkt(fxpWrite, 1, "handle-1", uint64(0), make([]byte, 32<<10))
	b.SetBytes(int64(len(packet)))
	for b.Loop() {
		w.Write(packet)
	}
}

// BenchmarkDownloadGuarded is BenchmarkDownload with the guard on.
func BenchmarkDownloadGuarded(b *testing.B) {
	a := NewAuditor(func(Op) {}, nil)
	a.RefuseWrites(io.Discard, readOnly)
	w := a.ServerToClient(io.Discard)
	w.Write(pkt(fxpVersion, 3))
	packet := pkt(fxpData, 1, make([]byte, 32<<10))
	b.SetBytes(int64(len(packet)))
	for b.Loop() {
		w.Write(packet)
	}
}
