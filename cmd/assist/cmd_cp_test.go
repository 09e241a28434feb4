package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
)

// filesSession starts a gateway and an agent that serves files under grant, and writes an .otc
// for it; it returns the .otc path.
func filesSession(t *testing.T, grant protocol.Grant) string {
	t.Helper()
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: grant, Routes: map[string]agent.Route{
		"session": agent.FilesRoute(slog.New(slog.DiscardHandler)),
	}})
	o := g.IssueOTC(t, tech, a.Code())
	path := filepath.Join(t.TempDir(), o.Request+".otc")
	if err := os.WriteFile(path, o.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runAssist runs the assist command tree and returns stdout, stderr and the exit code.
func runAssist(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCommand()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	code := cli.Run(root, args, &errb)
	return out.String(), errb.String(), code
}

type treeFile struct {
	rel   string
	mode  fs.FileMode
	data  []byte
	dir   bool
	mtime time.Time
}

// makeTree writes a tree with nested directories, odd names, several modes (a read-only
// directory among them) and mtimes in the past.
func makeTree(t *testing.T, root string) []treeFile {
	t.Helper()
	big := make([]byte, 5<<20+7)
	rand.Read(big)
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	files := []treeFile{
		{rel: "a", dir: true, mode: 0o755},
		{rel: "a/b", dir: true, mode: 0o750},
		{rel: "a/b/c", dir: true, mode: 0o700},
		{rel: "a/b/c/deep.txt", mode: 0o600, data: []byte("deep\n")},
		{rel: "a/b/big.bin", mode: 0o644, data: big},
		{rel: "a/run me.sh", mode: 0o755, data: []byte("#!/bin/sh\necho hi\n")},
		{rel: "a/empty", mode: 0o640, data: nil},
		{rel: "a/ro", dir: true, mode: 0o555},
		{rel: "a/ro/inside", mode: 0o444, data: []byte("read only")},
		{rel: "a/ünï", mode: 0o644, data: []byte("utf-8 name")},
	}
	for i := range files {
		f := &files[i]
		f.mtime = base.Add(time.Duration(i) * time.Hour)
		p := filepath.Join(root, f.rel)
		var err error
		if f.dir {
			err = os.Mkdir(p, 0o755)
		} else {
			err = os.WriteFile(p, f.data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// Modes and times last, deepest first, so that writing a child changes nothing after.
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		p := filepath.Join(root, f.rel)
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// makeWritable lets t.TempDir's cleanup remove the read-only directories when tests do not
// run as root.
func makeWritable(roots ...string) {
	for _, r := range roots {
		filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	}
}

func checkTree(t *testing.T, root string, want []treeFile) {
	t.Helper()
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if p != root {
			n++
		}
		return nil
	})
	if n != len(want) {
		t.Errorf("%s holds %d entries, want %d", root, n, len(want))
	}
	for _, f := range want {
		p := filepath.Join(root, f.rel)
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", f.rel, err)
			continue
		}
		if fi.IsDir() != f.dir || fi.Mode().Perm() != f.mode {
			t.Errorf("%s: dir %v mode %v, want dir %v mode %v", f.rel, fi.IsDir(), fi.Mode().Perm(), f.dir, f.mode)
		}
		if !fi.ModTime().Equal(f.mtime) {
			t.Errorf("%s: mtime %v, want %v", f.rel, fi.ModTime().UTC(), f.mtime)
		}
		if !f.dir {
			got, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, f.data) {
				t.Errorf("%s: content differs (%d bytes, want %d; %v)", f.rel, len(got), len(f.data), err)
			}
		}
	}
}

func TestCpRecursiveRoundTripKeepsBytesModesAndTimes(t *testing.T) {
	otc := filesSession(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	src, remoteDir, back := t.TempDir(), t.TempDir(), t.TempDir()
	want := makeTree(t, src)
	t.Cleanup(func() { makeWritable(src, remoteDir, back) })

	out, errs, code := runAssist(t, "cp", "-r", "--json", filepath.Join(src, "a"), otc+":"+remoteDir)
	if code != 0 {
		t.Fatalf("upload: exit %d: %s", code, errs)
	}
	var sum cpSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if sum.Direction != "upload" || sum.Files != 6 || sum.Dirs != 4 || sum.Bytes != int64(5<<20+7+5+18+9+10) {
		t.Fatalf("upload summary = %+v", sum)
	}
	checkTree(t, remoteDir, want)

	// Download with --otc and the :PATH form, into a directory that does not exist yet.
	_, errs, code = runAssist(t, "cp", "-r", "--otc", otc, ":"+filepath.Join(remoteDir, "a"), filepath.Join(back, "copy"))
	if code != 0 {
		t.Fatalf("download: exit %d: %s", code, errs)
	}
	renamed := make([]treeFile, len(want))
	for i, f := range want {
		f.rel = "copy" + strings.TrimPrefix(f.rel, "a")
		renamed[i] = f
	}
	checkTree(t, back, renamed)
}

func TestCpClearErrors(t *testing.T) {
	otc := filesSession(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	dir := t.TempDir()
	local := filepath.Join(dir, "f.txt")
	os.WriteFile(local, []byte("x"), 0o644)
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"remote missing", []string{"cp", otc + ":" + missing, dir}, 1, "assist: stat remote " + missing + ": no such file or directory\n"},
		{"local missing", []string{"cp", missing, otc + ":" + dir}, 1, "assist: stat local " + missing + ": no such file or directory\n"},
		{"directory without -r", []string{"cp", otc + ":" + dir, t.TempDir()}, 1, "assist: copy remote " + dir + ": is a directory (copy directories with -r)\n"},
		{"several into a file", []string{"cp", local, local, otc + ":" + local}, 1, "not a directory (copying 2 sources needs one)"},
		{"remote disk full", []string{"cp", local, otc + ":/dev/full"}, 1, "write remote /dev/full: disk full (no space left on device)\nhint: free some space"},
		{"no remote side", []string{"cp", local, dir}, 2, "no remote path"},
		{"two remote sides", []string{"cp", otc + ":/a", otc + ":/b"}, 2, "both sides are remote"},
		{"no such otc", []string{"cp", filepath.Join(dir, "nope.otc") + ":/etc/hosts", dir}, 1, "nope.otc: no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs, code := runAssist(t, c.args...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errs, c.code, c.want)
			}
		})
	}
}

func TestCpReadOnlyConsentRefusesUpload(t *testing.T) {
	otc := filesSession(t, protocol.GrantFilesRead)
	dir := t.TempDir()
	local := filepath.Join(dir, "f.txt")
	os.WriteFile(local, []byte("x"), 0o644)
	target := t.TempDir()
	_, errs, code := runAssist(t, "cp", local, otc+":"+target)
	want := "assist: create remote " + filepath.Join(target, "f.txt") + ": permission denied (the person's account may not write there, or they allowed read-only file access)\nhint:"
	if code != 1 || !strings.HasPrefix(errs, want) {
		t.Fatalf("exit %d, stderr %q; want exit 1 and %q", code, errs, want)
	}
	// Reading still works.
	_, errs, code = runAssist(t, "cp", otc+":"+local, filepath.Join(target, "back.txt"))
	if code != 0 {
		t.Fatalf("download under files-ro: exit %d: %s", code, errs)
	}
}

func TestCpRefusedWithoutFileConsent(t *testing.T) {
	otc := filesSession(t, protocol.GrantView)
	_, errs, code := runAssist(t, "cp", otc+":/etc/hostname", t.TempDir())
	if code != 1 || !strings.Contains(errs, "file access refused: the person allowed view; sftp needs more") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestPlanCp(t *testing.T) {
	for _, c := range []struct {
		args     []string
		otc      string
		want     cpPlan
		wantErr  string
		download bool
	}{
		{args: []string{"K.otc:/etc/hosts", "."}, want: cpPlan{otc: "K.otc", srcs: []string{"/etc/hosts"}, dst: ".", download: true}},
		{args: []string{"a", "b", "dir/K.OTC:"}, want: cpPlan{otc: "dir/K.OTC", srcs: []string{"a", "b"}, dst: ""}},
		{args: []string{`C:\Users\me\K.otc:/etc/hosts`, `C:\tmp`}, want: cpPlan{otc: `C:\Users\me\K.otc`, srcs: []string{"/etc/hosts"}, dst: `C:\tmp`, download: true}},
		{args: []string{":/x", ":y", "out"}, otc: "K.otc", want: cpPlan{otc: "K.otc", srcs: []string{"/x", "y"}, dst: "out", download: true}},
		{args: []string{":/x", "out"}, wantErr: "no remote path"},
		{args: []string{"a.otc:/x", "b.otc:/y", "."}, wantErr: "two one-time files"},
		{args: []string{"a.otc:/x", "local", "."}, wantErr: "no remote path"},
		{args: []string{"a.otc:/x", "a.otc:/y"}, wantErr: "both sides are remote"},
	} {
		got, err := planCp(c.args, c.otc)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("planCp(%q) error %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil || got.otc != c.want.otc || got.dst != c.want.dst || got.download != c.want.download || strings.Join(got.srcs, "|") != strings.Join(c.want.srcs, "|") {
			t.Errorf("planCp(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
}

func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"K7QH-4ZPD.otc:/etc/hosts", ":/tmp", "plain", `C:\x.otc:/y`, "a.otc:", ".otc:x", "x.otc:y.otc:z"} {
		f.Add(s, "")
		f.Add(s, "K.otc")
	}
	f.Fuzz(func(t *testing.T, arg, flag string) {
		l := parseLocation(arg, flag)
		if !l.remote {
			if l.path != arg || l.otc != "" {
				t.Fatalf("local %q became %+v", arg, l)
			}
			return
		}
		// A remote operand splits into the .otc name, a colon and the path, losing nothing.
		if l.otc == "" || (l.otc+":"+l.path != arg && ":"+l.path != arg) {
			t.Fatalf("remote %q became %+v", arg, l)
		}
	})
}
