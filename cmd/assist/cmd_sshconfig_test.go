package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

func needProgram(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (scripts/deps.sh installs OpenSSH's client): %v", name, err)
	}
}

func TestSSHConfigWritesWhatOpenSSHUses(t *testing.T) {
	needProgram(t, "ssh")
	otcPath := filesSession(t, protocol.GrantFilesRead)
	data, _ := os.ReadFile(otcPath)
	o, err := tickets.ParseOTC(data)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "with space")
	out, errs, code := runAssist(t, "ssh-config", otcPath, "-o", dir)
	if code != 0 {
		t.Fatalf("ssh-config: exit %d: %s", code, errs)
	}
	alias := "assist-" + strings.ToLower(o.Request)
	for _, want := range []string{"sftp -F '" + filepath.Join(dir, "config") + "' " + alias, "scp -F", "not scp -O"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for name, mode := range map[string]os.FileMode{"key": 0o600, "config": 0o600, "known_hosts": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want mode %v", name, fi, err, mode)
		}
	}
	kh, _ := os.ReadFile(filepath.Join(dir, "known_hosts"))
	host, port, _ := strings.Cut(o.Gateways[0], ":")
	if !strings.HasPrefix(string(kh), "["+host+"]:"+port+" ssh-ed25519 AAAA") {
		t.Errorf("known_hosts = %q", kh)
	}
	// ssh -G prints the configuration OpenSSH would use: check the settings that matter, as
	// OpenSSH itself read them, with the code in capitals as the help desk shows it.
	g, err := exec.Command("ssh", "-G", "-F", filepath.Join(dir, "config"), "assist-"+o.Request).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -G: %v\n%s", err, g)
	}
	for _, want := range []string{
		"hostname " + host, "port " + port, "user " + protocol.OTCUser(o.Request),
		"identityfile " + filepath.Join(dir, "key"), "identitiesonly yes", "identityagent none",
		"userknownhostsfile " + filepath.Join(dir, "known_hosts"), "stricthostkeychecking true",
		"passwordauthentication no", "kbdinteractiveauthentication no", "forwardagent no",
		"ciphers aes128-gcm@openssh.com,",
	} {
		if !strings.Contains(string(g), "\n"+want) {
			t.Errorf("ssh -G lacks %q", want)
		}
	}
}

func TestSFTPCommandRunsOpenSSHsftp(t *testing.T) {
	needProgram(t, "sftp")
	otcPath := filesSession(t, protocol.GrantFilesRead|protocol.GrantFilesWrite)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from the person\n"), 0o644)
	batch := filepath.Join(t.TempDir(), "batch")
	os.WriteFile(batch, []byte("cd "+dir+"\nls -1\nget hello.txt "+filepath.Join(dir, "got.txt")+"\n"), 0o644)
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "assist-sftp-*"))
	out, errs, code := runAssist(t, "sftp", otcPath, "--", "-b", batch)
	if code != 0 {
		t.Fatalf("assist sftp: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "got.txt")); err != nil || string(got) != "hello from the person\n" {
		t.Fatalf("sftp get: %q, %v", got, err)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "assist-sftp-*"))
	if len(after) > len(before) {
		t.Fatalf("temporary config left behind: %v", after)
	}
	// sftp's own exit status comes back: a failed batch command exits 1.
	os.WriteFile(batch, []byte("get /nonexistent/file\n"), 0o644)
	_, errs, code = runAssist(t, "sftp", otcPath, "--", "-b", batch)
	if code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("failing batch: exit %d, stderr %q", code, errs)
	}
}
