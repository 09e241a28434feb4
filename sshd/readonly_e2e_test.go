package sshd_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
)

// permissiveFilesRoute is an agent's SFTP service that ignores the person's answer and lets
// every write through, as an outdated or modified agent might: only the gateway stands between
// a read-only grant and the person's disk.
func permissiveFilesRoute() agent.Route {
	return agent.Route{Need: protocol.GrantFilesRead, Service: agent.ServiceFunc(func(_ context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, _ protocol.Grant) {
		for r := range reqs {
			if r.Type != "subsystem" {
				r.Reply(false, nil)
				continue
			}
			r.Reply(true, nil)
			go ssh.DiscardRequests(reqs)
			if srv, err := sftp.NewServer(ch); err == nil {
				srv.Serve()
			}
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
			ch.Close()
			return
		}
	})}
}

// newPermissiveDesk is a files desk whose agent is permissive and whose person answers grant.
func newPermissiveDesk(t *testing.T, grant protocol.Grant) *filesDesk {
	t.Helper()
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: grant, Routes: map[string]agent.Route{"session": permissiveFilesRoute()}})
	return filesDeskFor(t, g, tech, a.Code())
}

// personsFiles is a directory of the person's with a file, a directory and a symlink, and a
// description of all of it to compare with later.
func personsFiles(t *testing.T) (root, file, dir, link string, snapshot func() string) {
	t.Helper()
	root = t.TempDir()
	file, dir, link = filepath.Join(root, "f.txt"), filepath.Join(root, "d"), filepath.Join(root, "l")
	os.WriteFile(file, []byte("the person's file\n"), 0o644)
	os.Mkdir(dir, 0o755)
	os.Symlink(file, link)
	snapshot = func() string {
		var b strings.Builder
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, _ := os.Lstat(p)
			content, _ := os.ReadFile(p)
			target, _ := os.Readlink(p)
			fmt.Fprintf(&b, "%s %v %d %d %q %q\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), content, target)
			return nil
		})
		return b.String()
	}
	return root, file, dir, link, snapshot
}

// waitFileRefused waits for the refusal of an SFTP operation on path: the audit event, the
// auth line and the log line.
func waitFileRefused(t *testing.T, d *filesDesk, kind, path string) {
	t.Helper()
	e := waitEvent(t, d.g, "refused", map[string]string{"what": "sftp " + kind, "path": path})
	if e.Actor != "alice" || e.Request != d.otc.Request || !strings.HasPrefix(e.Attrs["reason"], "the person allowed files-ro") {
		t.Errorf("refusal event %+v, want alice's, for the request, naming the grant", e)
	}
	waitLog(t, d.g.AuthLog, `refused sftp:`+regexp.QuoteMeta(kind)+` for user otc-`+regexp.QuoteMeta(d.otc.Request)+` from 127\.0\.0\.1 port \d+`)
	waitLog(t, d.g.Logs, `msg=refused .*what="sftp `+regexp.QuoteMeta(kind)+`".*path=`+regexp.QuoteMeta(path))
}

// TestPermissiveAgentWrites shows the fake agent of the read-only tests does write: with a
// files grant a put lands on its disk.
func TestPermissiveAgentWrites(t *testing.T) {
	d := newPermissiveDesk(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	local, remote := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(local, "x"), []byte("x"), 0o644)
	if out, errs, err := d.sftpBatch(t, "put "+filepath.Join(local, "x")+" "+remote+"/x"); err != nil {
		t.Fatalf("put with a files grant: %v\n%s%s", err, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(remote, "x")); err != nil || string(b) != "x" {
		t.Fatalf("put did not reach the permissive agent's disk: %q, %v", b, err)
	}
}

func TestReadOnlyGrantRefusesOpenSSHWritesAtGateway(t *testing.T) {
	d := newPermissiveDesk(t, protocol.GrantFilesRead)
	root, file, dir, _, snapshot := personsFiles(t)
	before := snapshot()
	local := filepath.Join(t.TempDir(), "upload.txt")
	os.WriteFile(local, []byte("from the technician\n"), 0o644)

	for _, c := range []struct{ name, cmd, kind, path string }{
		{"put new", "put " + local + " " + root + "/new.txt", "open-write", root + "/new.txt"},
		{"put over", "put " + local + " " + file, "open-write", file},
		{"reput", "reput " + local + " " + file, "open-write", file},
		{"mkdir", "mkdir " + root + "/new-dir", "mkdir", root + "/new-dir"},
		{"rmdir", "rmdir " + dir, "rmdir", dir},
		{"rm", "rm " + file, "remove", file},
		{"rename", "rename " + file + " " + root + "/moved.txt", "rename", file},
		{"chmod", "chmod 600 " + file, "setstat", file},
		{"chown", "chown 65534 " + file, "setstat", file},
		{"chgrp", "chgrp 65534 " + file, "setstat", file},
		{"ln -s", "ln -s " + file + " " + root + "/l2", "symlink", root + "/l2"},
		{"ln", "ln " + file + " " + root + "/hard", "hardlink", root + "/hard"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs, err := d.sftpBatch(t, c.cmd)
			if err == nil || !strings.Contains(errs, "Permission denied") {
				t.Fatalf("%s under files-ro: %v, stderr %q; want permission denied", c.cmd, err, errs)
			}
			waitFileRefused(t, d, c.kind, c.path)
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("the person's files changed under a read-only grant:\nbefore\n%s\nafter\n%s", before, after)
	}
	// Reading still works.
	out, errs, err := d.sftpBatch(t, "get "+file+" "+filepath.Dir(local)+"/back.txt", "ls -l "+root, "df "+root)
	if err != nil || !strings.Contains(out, "f.txt") {
		t.Fatalf("reading under files-ro: %v\n%s%s", err, out, errs)
	}
	if b, _ := os.ReadFile(filepath.Dir(local) + "/back.txt"); string(b) != "the person's file\n" {
		t.Fatalf("get under files-ro: %q", b)
	}
}

func TestReadOnlyGrantRefusesPkgSFTPWritesAtGateway(t *testing.T) {
	d := newPermissiveDesk(t, protocol.GrantFilesRead)
	root, file, dir, link, snapshot := personsFiles(t)
	before := snapshot()
	s, err := dialOTC(t, d.otc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sftp.NewClient(s.Client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	onReadHandle := func(do func(*sftp.File) error) func() error {
		return func() error {
			f, err := c.Open(file)
			if err != nil {
				return fmt.Errorf("open for reading: %w", err)
			}
			defer f.Close()
			return do(f)
		}
	}
	for _, w := range []struct {
		name, kind, path string
		do               func() error
	}{
		{"create", "open-write", root + "/new", func() error { _, err := c.Create(root + "/new"); return err }},
		{"open append", "open-write", file, func() error { _, err := c.OpenFile(file, os.O_WRONLY|os.O_APPEND); return err }},
		{"write on a read handle", "write", file, onReadHandle(func(f *sftp.File) error { _, err := f.WriteAt([]byte("x"), 0); return err })},
		{"fchmod on a read handle", "fsetstat", file, onReadHandle(func(f *sftp.File) error { return f.Chmod(0o600) })},
		{"remove", "remove", file, func() error { return c.Remove(file) }},
		{"rename", "rename", file, func() error { return c.Rename(file, file+".2") }},
		{"posix-rename", "rename", file, func() error { return c.PosixRename(file, file+".2") }},
		{"mkdir", "mkdir", root + "/nd", func() error { return c.Mkdir(root + "/nd") }},
		{"rmdir", "rmdir", dir, func() error { return c.RemoveDirectory(dir) }},
		{"chmod", "setstat", file, func() error { return c.Chmod(file, 0o600) }},
		{"chtimes", "setstat", file, func() error { return c.Chtimes(file, time.Unix(1, 0), time.Unix(1, 0)) }},
		{"truncate", "setstat", file, func() error { return c.Truncate(file, 0) }},
		{"symlink", "symlink", root + "/l2", func() error { return c.Symlink(file, root+"/l2") }},
		{"hardlink", "hardlink", root + "/h", func() error { return c.Link(file, root+"/h") }},
	} {
		t.Run(w.name, func(t *testing.T) {
			if err := w.do(); !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("%v, want permission denied", err)
			}
			waitFileRefused(t, d, w.kind, w.path)
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("the person's files changed under a read-only grant:\nbefore\n%s\nafter\n%s", before, after)
	}
	if target, err := c.ReadLink(link); err != nil || target != file {
		t.Fatalf("readlink under files-ro: %q, %v", target, err)
	}
}

// TestReadOnlyGrantRefusesUnknownRequestsAtGateway speaks raw SFTP to the gateway: extensions
// that write, one nobody knows and a packet type outside the protocol are all refused with
// permission denied under their own ids, with the gateway's reason, and never reach the agent.
func TestReadOnlyGrantRefusesUnknownRequestsAtGateway(t *testing.T) {
	d := newPermissiveDesk(t, protocol.GrantFilesRead)
	root, _, _, _, snapshot := personsFiles(t)
	before := snapshot()
	s, err := dialOTC(t, d.otc)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	w, _ := sess.StdinPipe()
	r, _ := sess.StdoutPipe()
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	send := func(typ byte, fields ...any) {
		body := []byte{typ}
		for _, f := range fields {
			switch v := f.(type) {
			case uint32:
				body = binary.BigEndian.AppendUint32(body, v)
			case uint64:
				body = binary.BigEndian.AppendUint64(body, v)
			case string:
				body = binary.BigEndian.AppendUint32(body, uint32(len(v)))
				body = append(body, v...)
			}
		}
		if _, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() []byte {
		var n [4]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint32(n[:]))
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	send(1, uint32(3))
	if v := recv(); v[0] != 2 {
		t.Fatalf("no version reply: %v", v)
	}
	send(200, uint32(7), "copy-data", "h1", uint64(0), uint64(0), "h2", uint64(0))
	send(200, uint32(8), "evil@example.org", root+"/x")
	send(99, uint32(9), root+"/x")
	for _, id := range []uint32{7, 8, 9} {
		b := recv()
		if b[0] != 101 || binary.BigEndian.Uint32(b[1:]) != id || binary.BigEndian.Uint32(b[5:]) != 3 ||
			!strings.Contains(string(b[13:]), "the person allowed files-ro; changing files needs more") {
			t.Fatalf("reply %q, want SSH_FX_PERMISSION_DENIED for id %d with the reason", b, id)
		}
	}
	waitEvent(t, d.g, "refused", map[string]string{"what": "sftp copy-data"})
	waitEvent(t, d.g, "refused", map[string]string{"what": "sftp extended", "target": "evil@example.org"})
	waitEvent(t, d.g, "refused", map[string]string{"what": "sftp unknown", "detail": "packet type 99"})
	if after := snapshot(); after != before {
		t.Fatalf("files changed:\n%s\n%s", before, after)
	}
}

// TestViewOnlyRefusesInputAtGatewayWithPermissiveAgent: an agent whose input service asks for
// no more than view still never gets the input channel of a view-only session.
func TestViewOnlyRefusesInputAtGatewayWithPermissiveAgent(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	served := make(chan string, 4)
	route := func(typ string) agent.Route {
		return agent.Route{Need: protocol.GrantView, Service: agent.ServiceFunc(func(_ context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, _ protocol.Grant) {
			go ssh.DiscardRequests(reqs)
			served <- typ
			io.Copy(ch, ch)
			ch.CloseWrite()
		})}
	}
	a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantView, Routes: map[string]agent.Route{
		protocol.FramebufferChannel: route(protocol.FramebufferChannel), protocol.InputChannel: route(protocol.InputChannel),
	}})
	o := g.IssueOTC(t, alice, a.Code())
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatal(err)
	}
	openEcho(t, s, protocol.FramebufferChannel)
	if typ := <-served; typ != protocol.FramebufferChannel {
		t.Fatalf("served %s", typ)
	}
	_, _, err = s.OpenChannel(protocol.InputChannel, nil)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited || !strings.Contains(oce.Message, "the person allowed view; "+protocol.InputChannel+" needs more") {
		t.Fatalf("input in a view-only session: %v, want the gateway's refusal", err)
	}
	waitRefused(t, g, "otc-"+o.Request, protocol.InputChannel)
	select {
	case typ := <-served:
		t.Fatalf("%s reached the permissive agent", typ)
	default:
	}
}
