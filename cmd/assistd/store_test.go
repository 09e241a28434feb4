package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// storeDir makes a data directory holding n requests and one admin.
func storeDir(t *testing.T, n int) dataDir {
	t.Helper()
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	store, err := d.create()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.AddUser(tickets.User{Name: "alice", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AppendEvent(tickets.Event{Kind: "gateway.initialised", Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := store.CreateRequest(tickets.Request{Form: tickets.Form{FullName: fmt.Sprintf("person %d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func hinted(err error) string {
	var h *cli.Hinted
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}

// TestServeRefusesADamagedStore is the corruption table at the gateway's start: each damaged
// file is refused with what is wrong and the next step, the file is left as it was, and no
// store is made in its place.
func TestServeRefusesADamagedStore(t *testing.T) {
	pageOf := func(d dataDir) int64 { // the requests bucket's root: a page every list reads
		db, err := bolt.Open(d.dbPath(), 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var root int64
		db.View(func(tx *bolt.Tx) error {
			root = int64(tx.Bucket([]byte("requests")).RootPage()) * int64(db.Info().PageSize)
			return nil
		})
		if root == 0 {
			t.Fatal("the requests bucket is inline: file more requests")
		}
		return root
	}
	tests := []struct {
		name   string
		damage func(d dataDir)
		want   string
	}{
		{"zero length", func(d dataDir) { os.Truncate(d.dbPath(), 0) }, "empty (0 bytes)"},
		{"truncated", func(d dataDir) { st, _ := os.Stat(d.dbPath()); os.Truncate(d.dbPath(), st.Size()/2) }, "truncated"},
		{"damaged page", func(d dataDir) { overwriteAt(t, d.dbPath(), pageOf(d), randomBytes(4096)) }, "damaged"},
		{"random bytes", func(d dataDir) {
			st, _ := os.Stat(d.dbPath())
			os.WriteFile(d.dbPath(), randomBytes(int(st.Size())), 0o600)
		}, "not a bbolt database"},
		{"missing", func(d dataDir) { os.Remove(d.dbPath()) }, "not an initialised data directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := storeDir(t, 200)
			tt.damage(d)
			before, _ := os.ReadFile(d.dbPath())
			// A store that is not refused would be served: the deadline makes that a failure.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := runServe(ctx, serveOptions{data: string(d), sshAddr: "127.0.0.1:0", logFormat: "text"}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve on a %s store: %v, want an error saying %q", tt.name, err, tt.want)
			}
			if h := hinted(err); !strings.Contains(h, "assistd restore") && !strings.Contains(h, "assistd init") {
				t.Errorf("hint %q names no next step", h)
			}
			if after, _ := os.ReadFile(d.dbPath()); !bytes.Equal(before, after) {
				t.Error("serve changed the refused file")
			}
			var out bytes.Buffer
			if err := runCheck(context.Background(), d, &out); err == nil {
				t.Errorf("check passed a %s store:\n%s", tt.name, out.String())
			}
		})
	}
}

// TestCheckReportsADamagedRecord: serve still starts (one bad request must not stop a help desk),
// and check names the record.
func TestCheckReportsADamagedRecord(t *testing.T) {
	d := storeDir(t, 5)
	key, _ := d.auditKey()
	s, err := tickets.OpenBolt(d.dbPath(), tickets.BoltOptions{AuditKey: key})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := s.Requests(tickets.RequestQuery{})
	s.Close()
	bad := page.Requests[1]
	raw := mustReadAll(t, d.dbPath())
	i := bytes.Index(raw, []byte(`"full_name":"`+bad.FullName))
	if i < 0 {
		t.Fatal("request not found in the file")
	}
	raw[i+len(`"full_name"`)] = ';' // no longer JSON; bbolt's pages stay sound
	os.WriteFile(d.dbPath(), raw, 0o600)

	var out bytes.Buffer
	err = runCheck(context.Background(), d, &out)
	if err == nil || !strings.Contains(out.String(), "problem: requests/"+bad.ID) {
		t.Fatalf("check: %v\n%s\nwant a problem naming requests/%s", err, out.String(), bad.ID)
	}
	s2 := serve(t, serveOptions{data: string(d), sshAddr: "127.0.0.1:0", logFormat: "text"})
	_ = s2
}

func TestBackupAndRestoreOfAStoppedGateway(t *testing.T) {
	d := storeDir(t, 3)
	backup := filepath.Join(t.TempDir(), "assist-backup.db")
	var out bytes.Buffer
	if err := runBackup(context.Background(), d, backup, &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "3 requests") {
		t.Errorf("backup said %q", out.String())
	}
	// The live file is lost; restore brings the backup back and keeps what it replaced.
	os.Truncate(d.dbPath(), 0)
	out.Reset()
	if err := runRestore(context.Background(), d, backup, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), &out); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if _, err := os.Stat(d.dbPath() + ".replaced-20261201T090000Z"); err != nil {
		t.Errorf("the replaced file was not kept: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runCheck(context.Background(), d, &out); err != nil || !strings.Contains(out.String(), "3 requests") {
		t.Errorf("check after restore: %v\n%s", err, out.String())
	}

	// A damaged backup, or another gateway's, is refused before anything changes.
	other := storeDir(t, 1)
	otherBackup := filepath.Join(t.TempDir(), "other.db")
	if err := runBackup(context.Background(), other, otherBackup, io.Discard); err != nil {
		t.Fatal(err)
	}
	before := mustReadAll(t, d.dbPath())
	if err := runRestore(context.Background(), d, otherBackup, time.Now(), io.Discard); err == nil || !strings.Contains(err.Error(), "audit") {
		t.Errorf("restore of another gateway's backup: %v, want a refusal about the audit chain", err)
	}
	os.Truncate(otherBackup, 4096*3)
	if err := runRestore(context.Background(), d, otherBackup, time.Now(), io.Discard); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("restore of a truncated backup: %v", err)
	}
	if !bytes.Equal(before, mustReadAll(t, d.dbPath())) {
		t.Error("a refused restore changed the store")
	}
}

// TestBackupOfALiveGatewayUnderLoad files requests from many agents while a backup runs: the
// backup passes check, restores, and holds every request acknowledged before it began.
func TestBackupOfALiveGatewayUnderLoad(t *testing.T) {
	d := storeDir(t, 0)
	s := serve(t, serveOptions{data: string(d), sshAddr: "127.0.0.1:0", logFormat: "text"})
	hk, _ := d.hostKey()

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rr, err := newFiler(i).file(s.ssh.String(), hk.PublicKey())
				code := rr.Code
				if err != nil {
					select {
					case <-stop:
						return
					default:
					}
					t.Errorf("file: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, code)
				mu.Unlock()
			}
		}()
	}
	ackedSoFar := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), acked...) }
	waitCount(t, &mu, func() int { return len(acked) }, 50)
	before := ackedSoFar()
	backup := filepath.Join(t.TempDir(), "live.db")
	var out bytes.Buffer
	err := runBackup(context.Background(), d, backup, &out)
	during := len(ackedSoFar()) - len(before)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup of a live gateway: %v\n%s", err, s.logs)
	}
	t.Logf("%d requests acknowledged before the backup, %d while it ran: %s", len(before), during, strings.TrimSpace(out.String()))

	// Restore into a second data directory with the same keys, then check it.
	r := dataDir(filepath.Join(t.TempDir(), "restored"))
	os.MkdirAll(string(r), 0o700)
	for _, f := range []string{"audit.key", "ssh_host_ed25519_key"} {
		os.WriteFile(filepath.Join(string(r), f), mustReadAll(t, filepath.Join(string(d), f)), 0o600)
	}
	if err := runRestore(context.Background(), r, backup, time.Now(), io.Discard); err != nil {
		t.Fatalf("restore: %v", err)
	}
	out.Reset()
	if err := runCheck(context.Background(), r, &out); err != nil {
		t.Fatalf("check of the restored store: %v\n%s", err, out.String())
	}
	store, err := r.openStore()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, code := range before {
		if _, err := store.Request(code); err != nil {
			t.Errorf("request %s, acknowledged before the backup began, is not in it: %v", code, err)
		}
	}
	// And check reaches the live gateway too.
	out.Reset()
	if err := runCheck(context.Background(), d, &out); err != nil || !strings.Contains(out.String(), "running gateway") {
		t.Errorf("check of the live gateway: %v\n%s", err, out.String())
	}
}

// filer is an agent that files over its own source address in 127.0.0.0/8, as many agents
// behind one address would meet the gateway's per-address filing limit.
type filer struct {
	signer ssh.Signer
	local  net.IP
	code   string // what the gateway acknowledged
}

func newFiler(n int) *filer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	return &filer{signer: signer, local: net.IPv4(127, 0, 1, byte(1+n%250))}
}

// file files (or resumes) the filer's request and returns the gateway's answer.
func (f *filer) file(addr string, hostKey ssh.PublicKey) (protocol.RequestReply, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: f.local}, Timeout: 30 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return protocol.RequestReply{}, err
	}
	conn, chans, reqs, err := ssh.NewClientConn(nc, addr, &ssh.ClientConfig{User: protocol.AgentUser,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(f.signer)}, HostKeyCallback: ssh.FixedHostKey(hostKey)})
	if err != nil {
		nc.Close()
		return protocol.RequestReply{}, err
	}
	c := ssh.NewClient(conn, chans, reqs)
	defer c.Close()
	ok, reply, err := c.SendRequest(protocol.RequestGlobal, true, tickets.EncodeForm(tickets.Form{FullName: "Load Tester"}))
	if err != nil || !ok {
		return protocol.RequestReply{}, fmt.Errorf("file: ok=%v err=%v %s", ok, err, reply)
	}
	var rr protocol.RequestReply
	return rr, ssh.Unmarshal(reply, &rr)
}

// waitCount polls a count the filers raise until it reaches n, failing after a minute.
func waitCount(t *testing.T, mu *sync.Mutex, count func() int, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		c := count()
		mu.Unlock()
		if c >= n {
			return
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("%d filings acknowledged in a minute, want %d", c, n)
		}
		time.Sleep(5 * time.Millisecond) // polling a counter, not waiting for an event
	}
}

func overwriteAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteAt(b, off)
}

func randomBytes(n int) []byte {
	r := mrand.New(mrand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustReadAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
