package main

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// initDir makes a data directory with assistd init and a few audit events.
func initDir(t *testing.T) dataDir {
	t.Helper()
	d := dataDir(t.TempDir() + "/data")
	_, pub := testenv.NewKeyFile(t, t.TempDir(), "admin")
	var out bytes.Buffer
	root := newRootCommand()
	root.SetOut(&out)
	if code := cli.Run(root, []string{"init", "--data", string(d), "--admin", "admin", "--admin-key", pub + ".pub"}, &out); code != 0 {
		t.Fatalf("init: exit %d: %s", code, out.String())
	}
	store, err := d.openStore()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"request.filed", "credential.issued", "sftp.open-read", "session.ended"} {
		if _, err := store.AppendEvent(tickets.Event{Kind: k, Request: "K7QH-4ZPD"}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	return d
}

func verify(t *testing.T, d dataDir) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	root := newRootCommand()
	root.SetOut(&stderr)
	code := cli.Run(root, []string{"audit", "verify", "--data", string(d)}, &stderr)
	return code, stderr.String()
}

// editEvents changes the events bucket of the database file directly, as an intruder would.
func editEvents(t *testing.T, d dataDir, edit func(b *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(d.dbPath(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return edit(tx.Bucket([]byte("events"))) }); err != nil {
		t.Fatal(err)
	}
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func TestAuditVerify(t *testing.T) {
	tests := []struct {
		name string
		edit func(b *bolt.Bucket) error
		want string // "" means intact
	}{
		{"untouched", nil, ""},
		{"edited", func(b *bolt.Bucket) error {
			v := bytes.Replace(b.Get(seqKey(4)), []byte("sftp.open-read"), []byte("sftp.open-XXXX"), 1)
			return b.Put(seqKey(4), v)
		}, "event 4"},
		{"deleted", func(b *bolt.Bucket) error { return b.Delete(seqKey(2)) }, "event 2"},
		{"last deleted", func(b *bolt.Bucket) error { return b.Delete(seqKey(5)) }, "event 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := initDir(t)
			if tt.edit != nil {
				editEvents(t, d, tt.edit)
			}
			code, out := verify(t, d)
			if tt.want == "" {
				if code != 0 || !strings.Contains(out, "intact: 5 events") {
					t.Fatalf("verify of an untouched trail: exit %d: %s", code, out)
				}
				return
			}
			if code == 0 || !strings.Contains(out, "tampered at "+tt.want) {
				t.Fatalf("verify after %s: exit %d, output %q; want a failure naming %s", tt.name, code, out, tt.want)
			}
		})
	}
}
