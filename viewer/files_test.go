package viewer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/viewer"
)

// openFiles starts a gateway and an agent serving files under grant, and opens SFTP through a
// one-time session.
func openFiles(t *testing.T, grant protocol.Grant) *viewer.Files {
	t.Helper()
	f, err := tryFiles(t, grant)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tryFiles(t *testing.T, grant protocol.Grant) (*viewer.Files, error) {
	t.Helper()
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: grant, Routes: map[string]agent.Route{
		"session": agent.FilesRoute(slog.New(slog.DiscardHandler)),
	}})
	o := g.IssueOTC(t, tech, a.Code())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f, err := s.Files()
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { f.Close() })
	return f, nil
}

func TestFilesUploadListDownload(t *testing.T) {
	f := openFiles(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	ctx := context.Background()
	dir := t.TempDir()
	data := make([]byte, 3<<20+123)
	rand.Read(data)
	var ups []int64
	n, err := f.Upload(ctx, filepath.Join(dir, "up.bin"), bytes.NewReader(data), int64(len(data)), 0o640, func(done, total int64) {
		if total != int64(len(data)) {
			t.Errorf("upload progress total %d, want %d", total, len(data))
		}
		ups = append(ups, done)
	})
	if err != nil || n != int64(len(data)) {
		t.Fatalf("upload = %d, %v", n, err)
	}
	if len(ups) == 0 || ups[len(ups)-1] != int64(len(data)) {
		t.Fatalf("upload progress ended at %v, want %d", ups[len(ups)-1:], len(data))
	}
	if fi, err := os.Stat(filepath.Join(dir, "up.bin")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("uploaded file: %v %v, want mode 0640", fi, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := f.List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Name != "sub" || !entries[0].IsDir || entries[1].Name != "up.bin" || entries[1].Size != int64(len(data)) || entries[1].IsDir {
		t.Fatalf("list = %+v, want sub/ then up.bin", entries)
	}
	var buf bytes.Buffer
	var last int64
	n, err = f.Download(ctx, filepath.Join(dir, "up.bin"), &buf, func(done, total int64) { last = done })
	if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) || last != n {
		t.Fatalf("download = %d bytes, %v, equal %v, last progress %d", n, err, bytes.Equal(buf.Bytes(), data), last)
	}
}

func TestFilesErrorsNamePathAndCause(t *testing.T) {
	f := openFiles(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.txt")
	_, err := f.Download(ctx, missing, &bytes.Buffer{}, nil)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "open remote "+missing+": no such file or directory" {
		t.Fatalf("download missing = %v, want open remote %s: no such file or directory", err, missing)
	}
	// /dev/full fails every write with ENOSPC, as a full disk does.
	_, err = f.Upload(ctx, "/dev/full", strings.NewReader(strings.Repeat("x", 100<<10)), 100<<10, 0, nil)
	if !errors.Is(err, viewer.ErrDiskFull) || !strings.Contains(err.Error(), "write remote /dev/full: disk full") {
		t.Fatalf("upload to /dev/full = %v, want disk full", err)
	}
	_, err = f.Get(ctx, []string{"/etc/hostname"}, "/dev/full", viewer.CopyOptions{})
	if !errors.Is(err, viewer.ErrDiskFull) || !strings.Contains(err.Error(), "write local /dev/full: disk full") {
		t.Fatalf("get into /dev/full = %v, want disk full", err)
	}
	if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/full after a failed copy: %v, %v: a failed copy must not remove or replace what existed", fi, err)
	}
}

func TestFilesReadOnlyRefusesWrites(t *testing.T) {
	f := openFiles(t, protocol.GrantFilesRead)
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "x.txt")
	_, err := f.Upload(ctx, p, strings.NewReader("hello"), 5, 0o644, nil)
	t.Log(err)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("upload under files-ro = %v, want permission denied naming read-only access", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file exists after a refused upload: %v", err)
	}
	if err := f.Mkdir(ctx, filepath.Join(dir, "d")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("mkdir under files-ro = %v, want permission denied", err)
	}
	if _, err := f.List(ctx, dir); err != nil {
		t.Fatalf("list under files-ro = %v, want allowed", err)
	}
}

func TestFilesRefusedWithoutFileConsent(t *testing.T) {
	_, err := tryFiles(t, protocol.GrantView|protocol.GrantControl)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "file access refused") || !strings.Contains(err.Error(), "the person allowed control") {
		t.Fatalf("files under control-only consent = %v, want refused naming the person's answer", err)
	}
}
