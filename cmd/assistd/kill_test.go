package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

// startServe runs assistd serve as its own process (the test binary under the name assistd, as
// the scripts run it), with more flags if given, and returns it with its SSH address.
func startServe(t *testing.T, d dataDir, addr string, flags ...string) (*exec.Cmd, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "assistd")
	if err := os.Symlink(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--data", string(d), "--ssh", addr, "--http", ""}, flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	listening := regexp.MustCompile(`gateway listening.* ssh=(\S+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, m[1]
		}
	}
	t.Fatalf("assistd serve ended before listening: %v", sc.Err())
	return nil, ""
}

// TestKillDuringFilingLosesNothingAcknowledged kills the gateway with SIGKILL while agents file:
// every request the gateway acknowledged is in the store afterwards, and each of those agents
// resumes its own request from a new gateway on the same data.
func TestKillDuringFilingLosesNothingAcknowledged(t *testing.T) {
	d := storeDir(t, 0)
	hk, _ := d.hostKey()
	cmd, addr := startServe(t, d, "127.0.0.1:0")

	var mu sync.Mutex
	var acked []*filer
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				f := newFiler(i)
				rr, err := f.file(addr, hk.PublicKey())
				if err != nil {
					return // the gateway died under us
				}
				f.code = rr.Code
				mu.Lock()
				acked = append(acked, f)
				mu.Unlock()
			}
		}()
	}
	waitCount(t, &mu, func() int { return len(acked) }, 200)
	cmd.Process.Kill()
	cmd.Wait()
	close(stop)
	wg.Wait()
	t.Logf("%d requests acknowledged before SIGKILL", len(acked))

	_, addr2 := startServe(t, d, "127.0.0.1:0")
	for _, f := range acked {
		rr, err := f.file(addr2, hk.PublicKey())
		if err != nil {
			t.Fatalf("agent of %s after the restart: %v", f.code, err)
		}
		if !rr.Resumed || rr.Code != f.code {
			t.Errorf("agent of acknowledged request %s got %+v after the restart, want it resumed", f.code, rr)
		}
	}
}
