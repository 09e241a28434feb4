package sshd_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// filesDesk is a gateway and an agent serving the person's files under grant, an .otc for it,
// and OpenSSH's configuration for that .otc.
type filesDesk struct {
	g   *testenv.Gateway
	otc *tickets.OTC
	cfg viewer.SSHConfig
}

func newFilesDesk(t *testing.T, grant protocol.Grant) *filesDesk {
	t.Helper()
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	a := g.StartAgent(t, testenv.AgentOptions{Grant: grant, Routes: map[string]agent.Route{
		"session": agent.FilesRoute(slog.New(slog.DiscardHandler)),
	}})
	return filesDeskFor(t, g, tech, a.Code())
}

func filesDeskFor(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, code string) *filesDesk {
	t.Helper()
	o := g.IssueOTC(t, tech, code)
	cfg, err := viewer.WriteSSHConfig(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	return &filesDesk{g: g, otc: o, cfg: cfg}
}

// run runs an OpenSSH program (sftp, scp) with the desk's configuration and a time limit.
func (d *filesDesk) run(t *testing.T, program string, args ...string) (string, string, error) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		t.Fatalf("%s is not installed (scripts/deps.sh installs OpenSSH's client): %v", program, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, append([]string{"-F", d.cfg.Config}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// sftpBatch runs sftp -b with the given commands against the person's files.
func (d *filesDesk) sftpBatch(t *testing.T, commands ...string) (string, string, error) {
	t.Helper()
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(strings.Join(commands, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d.run(t, "sftp", "-b", batch, d.cfg.Alias)
}

func (d *filesDesk) files(t *testing.T) *viewer.Files {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, d.otc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func randomFile(t *testing.T, p string, size int) [32]byte {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= len(buf) {
		b := buf[:min(len(buf), left)]
		rand.Read(b)
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return [32]byte(h.Sum(nil))
}

func sha256File(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func TestOpenSSHsftpBatchThroughGateway(t *testing.T) {
	d := newFilesDesk(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	local, remote := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(local, "note.txt"), []byte("from the technician\n"), 0o644)
	dir := filepath.Join(remote, "newdir")

	out, errs, err := d.sftpBatch(t,
		"mkdir "+dir,
		"put "+filepath.Join(local, "note.txt")+" "+dir+"/note.txt",
		"rename "+dir+"/note.txt "+dir+"/renamed.txt",
		"ls -l "+dir,
	)
	if err != nil {
		t.Fatalf("sftp batch: %v\nstdout %s\nstderr %s", err, out, errs)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "renamed.txt")); err != nil || string(got) != "from the technician\n" {
		t.Fatalf("after put and rename: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "note.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("note.txt still there after rename: %v", err)
	}
	if !strings.Contains(out, "renamed.txt") || strings.Contains(out, " note.txt") {
		t.Fatalf("ls -l output lacks renamed.txt:\n%s", out)
	}

	out, errs, err = d.sftpBatch(t,
		"get "+dir+"/renamed.txt "+filepath.Join(local, "back.txt"),
		"rm "+dir+"/renamed.txt",
		"rmdir "+dir,
	)
	if err != nil {
		t.Fatalf("sftp batch: %v\nstdout %s\nstderr %s", err, out, errs)
	}
	if got, err := os.ReadFile(filepath.Join(local, "back.txt")); err != nil || string(got) != "from the technician\n" {
		t.Fatalf("get: %q, %v", got, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("newdir still there after rm and rmdir: %v", err)
	}

	// A path that does not exist fails the batch with OpenSSH's own words.
	_, errs, err = d.sftpBatch(t, "get "+filepath.Join(remote, "missing")+" "+local)
	if err == nil || !strings.Contains(errs, "not found") {
		t.Fatalf("get of a missing file: %v, stderr %q", err, errs)
	}
}

func TestOpenSSH100MiBChecksumsBothWays(t *testing.T) {
	d := newFilesDesk(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	local, remote := t.TempDir(), t.TempDir()
	src := filepath.Join(local, "big.bin")
	sum := randomFile(t, src, 100<<20)

	t.Run("sftp", func(t *testing.T) {
		if out, errs, err := d.sftpBatch(t, "put "+src+" "+remote+"/sftp.bin", "get "+remote+"/sftp.bin "+local+"/sftp-back.bin"); err != nil {
			t.Fatalf("sftp: %v\n%s%s", err, out, errs)
		}
		if sha256File(t, filepath.Join(remote, "sftp.bin")) != sum || sha256File(t, filepath.Join(local, "sftp-back.bin")) != sum {
			t.Fatal("sha256 differs after sftp put and get")
		}
	})
	t.Run("scp", func(t *testing.T) {
		if out, errs, err := d.run(t, "scp", src, d.cfg.Alias+":"+remote+"/scp.bin"); err != nil {
			t.Fatalf("scp put: %v\n%s%s", err, out, errs)
		}
		if out, errs, err := d.run(t, "scp", d.cfg.Alias+":"+remote+"/scp.bin", local+"/scp-back.bin"); err != nil {
			t.Fatalf("scp get: %v\n%s%s", err, out, errs)
		}
		if sha256File(t, filepath.Join(remote, "scp.bin")) != sum || sha256File(t, filepath.Join(local, "scp-back.bin")) != sum {
			t.Fatal("sha256 differs after scp put and get")
		}
	})
	t.Run("scp -r", func(t *testing.T) {
		tree := filepath.Join(local, "tree")
		os.MkdirAll(filepath.Join(tree, "a", "b"), 0o755)
		os.WriteFile(filepath.Join(tree, "a", "b", "leaf.txt"), []byte("leaf"), 0o600)
		if out, errs, err := d.run(t, "scp", "-r", "-p", tree, d.cfg.Alias+":"+remote); err != nil {
			t.Fatalf("scp -r: %v\n%s%s", err, out, errs)
		}
		fi, err := os.Stat(filepath.Join(remote, "tree", "a", "b", "leaf.txt"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("scp -r -p leaf: %v %v", fi, err)
		}
	})
	t.Run("scp -O is refused", func(t *testing.T) {
		_, errs, err := d.run(t, "scp", "-O", d.cfg.Alias+":"+remote+"/scp.bin", local+"/legacy.bin")
		if err == nil || !strings.Contains(errs, "offers only the sftp subsystem") {
			t.Fatalf("scp -O: %v, stderr %q; want a failure, with the reason", err, errs)
		}
		if _, err := os.Stat(local + "/legacy.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("scp -O wrote a file: %v", err)
		}
	})
}

func TestOpenSSHsftpRefusedWithoutFileConsent(t *testing.T) {
	d := newFilesDesk(t, protocol.GrantView|protocol.GrantControl)
	out, errs, err := d.sftpBatch(t, "ls /")
	if err == nil || !strings.Contains(errs, "the person allowed control; sftp needs more") || out != "" {
		t.Fatalf("sftp under control-only consent: %v, stdout %q, stderr %q; want a failure, with the reason", err, out, errs)
	}
	waitLog(t, d.g.Logs, `refused.*sftp.*the person allowed control; sftp needs more`)
}

func TestOpenSSHsftpReadOnlyConsent(t *testing.T) {
	d := newFilesDesk(t, protocol.GrantFilesRead)
	local, remote := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(local, "x.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(remote, "y.txt"), []byte("y"), 0o644)
	for _, cmd := range []string{
		"put " + filepath.Join(local, "x.txt") + " " + remote + "/x.txt",
		"mkdir " + remote + "/d",
		"rm " + remote + "/y.txt",
		"rename " + remote + "/y.txt " + remote + "/z.txt",
	} {
		_, errs, err := d.sftpBatch(t, cmd)
		if err == nil || !strings.Contains(errs, "Permission denied") {
			t.Errorf("%s under files-ro: %v, stderr %q; want permission denied", cmd, err, errs)
		}
	}
	if got, err := os.ReadFile(filepath.Join(remote, "y.txt")); err != nil || string(got) != "y" {
		t.Fatalf("y.txt changed under read-only consent: %q, %v", got, err)
	}
	if des, _ := os.ReadDir(remote); len(des) != 1 {
		t.Fatalf("remote dir holds %d entries after refused writes, want 1", len(des))
	}
	if _, errs, err := d.sftpBatch(t, "get "+remote+"/y.txt "+local+"/y.txt"); err != nil {
		t.Fatalf("get under files-ro: %v, %s", err, errs)
	}
}

// TestFilesPermissionDenied serves the files as an unprivileged user, as a real agent runs as
// the person: tests run as root here, and root reads a chmod-000 directory. So when root, the
// agent is this test binary re-run as nobody (uid 65534) with setuid credentials; otherwise the
// in-process agent already lacks the permission.
func TestFilesPermissionDenied(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	tech := g.AddTechnician(t, "alice", false)
	var code string
	if os.Geteuid() == 0 {
		code = startAgentAsNobody(t, g)
	} else {
		a := g.StartAgent(t, testenv.AgentOptions{Grant: protocol.GrantFilesRead | protocol.GrantFilesWrite, Routes: map[string]agent.Route{
			"session": agent.FilesRoute(slog.New(slog.DiscardHandler)),
		}})
		code = a.Code()
	}
	d := filesDeskFor(t, g, tech, code)
	root := worldReadableDir(t)
	secretDir := filepath.Join(root, "secret")
	os.Mkdir(secretDir, 0o755)
	os.WriteFile(filepath.Join(secretDir, "inside.txt"), []byte("s"), 0o644)
	os.Chmod(secretDir, 0o000)
	t.Cleanup(func() { os.Chmod(secretDir, 0o755) })
	private := filepath.Join(root, "private.txt")
	os.WriteFile(private, []byte("p"), 0o600)
	os.Chmod(root, 0o755) // readable, not writable, by nobody
	local := t.TempDir()

	f := d.files(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		op   func() error
		want string
	}{
		{"list a chmod-000 directory", func() error { _, err := f.List(ctx, secretDir); return err }, "list remote " + secretDir + ": permission denied"},
		{"copy from a chmod-000 directory", func() error {
			_, err := f.Get(ctx, []string{secretDir}, local, viewer.CopyOptions{Recursive: true})
			return err
		}, "list remote " + secretDir + ": permission denied"},
		{"read a 0600 file of another user", func() error {
			_, err := f.Get(ctx, []string{private}, local, viewer.CopyOptions{})
			return err
		}, "open remote " + private + ": permission denied"},
		{"write into a directory of another user", func() error {
			_, err := f.Put(ctx, []string{"/etc/hostname"}, root+"/new.txt", viewer.CopyOptions{})
			return err
		}, "create remote " + root + "/new.txt: permission denied (the person's account may not write there"},
		{"a path that does not exist", func() error {
			_, err := f.Get(ctx, []string{root + "/nope"}, local, viewer.CopyOptions{})
			return err
		}, "stat remote " + root + "/nope: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.op()
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	_, errs, err := d.sftpBatch(t, "ls "+secretDir)
	if err == nil || !strings.Contains(errs, "Permission denied") {
		t.Fatalf("OpenSSH sftp ls of a chmod-000 directory: %v, stderr %q", err, errs)
	}
}

// worldReadableDir is a directory that nobody can reach: t.TempDir's parent is 0700.
func worldReadableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "assist-files-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	return dir
}

// startAgentAsNobody runs TestFilesAgentProcess in a copy of this test binary as uid 65534
// and returns the request code it filed.
func startAgentAsNobody(t *testing.T, g *testenv.Gateway) string {
	t.Helper()
	dir := worldReadableDir(t)
	bin := filepath.Join(dir, "agent.test")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestFilesAgentProcess$")
	cmd.Env = append(os.Environ(), "ASSIST_FILES_AGENT_GATEWAY="+g.Addr, "ASSIST_FILES_AGENT_HOSTKEY="+g.HostKeyLine(), "HOME=/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe() // the agent stops when this closes
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start agent as nobody: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if code, ok := strings.CutPrefix(sc.Text(), "filed "); ok {
				line <- code
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case code := <-line:
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("the agent running as nobody did not file a request in 30s; stderr:\n%s", stderr.String())
	}
	return ""
}

// TestFilesAgentProcess is the agent of TestFilesPermissionDenied when started by it; it
// serves files with full consent until its standard input closes.
func TestFilesAgentProcess(t *testing.T) {
	addr := os.Getenv("ASSIST_FILES_AGENT_GATEWAY")
	if addr == "" {
		t.Skip("the agent process of TestFilesPermissionDenied")
	}
	hk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(os.Getenv("ASSIST_FILES_AGENT_HOSTKEY")))
	if err != nil {
		t.Fatal(err)
	}
	filed := make(chan string, 1)
	a, err := agent.New(agent.Config{
		Gateway: addr, HostKeys: []ssh.PublicKey{hk}, Key: testenv.NewKey(t),
		Form:    tickets.Form{FullName: "Nobody Person", UserName: "nobody", Computer: "box", Email: "n@example.org", Phone: "+1 555 0100", Message: "files"},
		Consent: testenv.FixedConsent(protocol.GrantFilesRead | protocol.GrantFilesWrite),
		Routes:  map[string]agent.Route{"session": agent.FilesRoute(slog.New(slog.DiscardHandler))},
		Events: func(e agent.Event) {
			if e.Kind == agent.EventFiled {
				select {
				case filed <- e.Code:
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	go func() { fmt.Printf("filed %s\n", <-filed) }()
	a.Run(ctx)
}
