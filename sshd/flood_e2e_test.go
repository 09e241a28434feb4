package sshd_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/fail2ban"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/sshd"
	"github.com/assistkit/assist/viewer"
)

// TestFloodFromOneAddress is issue 12's pre-auth exhaustion: one address (127.0.0.2) holds
// idle sockets and reconnects as fast as it can, and still a technician from 127.0.1.1 logs in
// and lists requests, and an agent from 127.0.2.1 files. The flood's auth-log lines stay
// within their budget, and fail2ban (ddos mode) blames the flooder and no one else.
func TestFloodFromOneAddress(t *testing.T) {
	const interval, budget = time.Second, 10
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) {
		c.RefusalLogInterval, c.RefusalLogBudget = interval, budget
		c.AuthLogSyslog = true
	}})
	tech := g.AddTechnician(t, "alice", false)

	floodStart := time.Now()
	stop := flood(t, g.Addr, "127.0.0.2", 64, 2)
	waitLog(t, g.AuthLog, `drop connection #\d+ from \[127\.0\.0\.2\]:\d+ on \[127\.0\.0\.1\]:\d+ past PerSourceMaxStartups`)

	start := time.Now()
	out := execFrom(t, g, tech, "127.0.1.1", "request", "list")
	t.Logf("during the flood a technician from 127.0.1.1 logged in and listed requests in %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "CODE") {
		t.Fatalf("request list during the flood: %q", out)
	}
	start = time.Now()
	a := g.StartAgent(t, testenv.AgentOptions{From: "127.0.2.1"})
	t.Logf("during the flood an agent from 127.0.2.1 filed in %s", time.Since(start).Round(time.Millisecond))
	if v := showJSON(t, g, tech, a.Code()); !strings.HasPrefix(v.RemoteAddr, "127.0.2.1:") {
		t.Fatalf("request filed from %s, want 127.0.2.1", v.RemoteAddr)
	}
	// Let at least one interval pass under the flood, so its summary line is written.
	waitLog(t, g.AuthLog, `drop connection from \[127\.0\.0\.2\]: \d+ more past PerSourceMaxStartups in the last 1s`)
	stop()
	elapsed := time.Since(floodStart)

	log := g.AuthLog.String()
	flooderLines := regexp.MustCompile(`(?m)^.*127\.0\.0\.2.*$`).FindAllString(log, -1)
	// Per interval: the budget, one drop line, and a summary each of drops and of suppressed lines.
	if most := (int(elapsed/interval) + 2) * (budget + 3); len(flooderLines) > most {
		t.Errorf("%d auth-log lines about the flooder in %s, want at most %d", len(flooderLines), elapsed.Round(time.Millisecond), most)
	}
	t.Logf("%d auth-log lines about the flooder in %s", len(flooderLines), elapsed.Round(time.Millisecond))

	file := filepath.Join(t.TempDir(), "auth.log")
	if err := os.WriteFile(file, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	blamed := map[string]int{}
	for _, f := range fail2ban.Failures(t, file, "assistd[mode=ddos]") {
		blamed[f.IP]++
	}
	if blamed["127.0.0.2"] == 0 || len(blamed) != 1 {
		t.Errorf("fail2ban in ddos mode counted failures from %v, want the flooder 127.0.0.2 only", blamed)
	}
	if normal := fail2ban.Failures(t, file, "assistd"); len(normal) != 0 {
		t.Errorf("fail2ban in normal mode counted %v; a flood that sends no user name is counted in ddos mode only", normal)
	}
}

// flood runs idle and reconnecting connections from ip to addr until the returned stop is
// called: idle ones connect and wait for the gateway to close them, reconnecting ones close
// as soon as they are connected.
func flood(t *testing.T, addr, ip string, idle, reconnecting int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: time.Second}
	var wg sync.WaitGroup
	loop := func(hold bool) {
		defer wg.Done()
		for ctx.Err() == nil {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				continue
			}
			if hold {
				go func() { <-ctx.Done(); c.Close() }()
				io.Copy(io.Discard, c)
			}
			c.Close()
		}
	}
	for i := 0; i < idle+reconnecting; i++ {
		wg.Add(1)
		go loop(i < idle)
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// execFrom logs in as tech from the local address ip and runs a gateway command.
func execFrom(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, ip string, args ...string) string {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	nc, err := d.Dial("tcp", g.Addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, g.Addr, &ssh.ClientConfig{
		User: tech.Name, Auth: []ssh.AuthMethod{ssh.PublicKeys(tech.Signer)},
		HostKeyCallback: ssh.FixedHostKey(g.HostKey.PublicKey()),
	})
	if err != nil {
		t.Fatalf("technician login from %s: %v", ip, err)
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	if status, err := viewer.Run(ctx, client, args, nil, &out, &errb); err != nil || status != 0 {
		t.Fatalf("%v from %s: status %d, %v: %s", args, ip, status, err, errb.String())
	}
	return out.String()
}

// TestHandshakeDeadlines: a peer that sends no version line is closed after VersionTimeout,
// one that stalls after its version after HandshakeStepTimeout, both long before the whole
// handshake's HandshakeTimeout; each leaves the line OpenSSH would.
func TestHandshakeDeadlines(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{Configure: func(c *sshd.Config) {
		c.VersionTimeout, c.HandshakeStepTimeout, c.HandshakeTimeout = 200*time.Millisecond, 300*time.Millisecond, time.Minute
	}})
	for _, tc := range []struct {
		name, send, line string
	}{
		{"silent", "", `Did not receive identification string from 127\.0\.0\.1 port \d+`},
		{"stalls after its version", "SSH-2.0-OpenSSH_9.2\r\n", `fatal: Timeout before authentication for 127\.0\.0\.1 port \d+`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", g.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, tc.send)
			// The client waits 20 s; the gateway's whole-handshake deadline is a minute, so a
			// close within 20 s is the version or step deadline's doing.
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := io.Copy(io.Discard, c); err != nil {
				t.Fatalf("the gateway did not close the connection: %v", err)
			}
			waitLog(t, g.AuthLog, tc.line)
		})
	}
}
