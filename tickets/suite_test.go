package tickets_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/tickets/storetest"
)

// TestStoreSuite runs the use cases every Store keeps against the bbolt file.
func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) (tickets.Store, func() tickets.Store) {
		path := filepath.Join(t.TempDir(), "assist.db")
		open := func() *boltHandle {
			s, err := tickets.OpenBolt(path, tickets.BoltOptions{AuditKey: []byte("test audit key, 32 bytes long!!!"), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return &boltHandle{Bolt: s}
		}
		h := open()
		// One process holds a bbolt file: the second gateway is the first, or the file
		// opened again once the first closed it (a restart).
		return h, func() tickets.Store {
			if h.closed {
				h = open()
			}
			return h
		}
	})
}

// boltHandle is a *tickets.Bolt that remembers it was closed.
type boltHandle struct {
	*tickets.Bolt
	closed bool
}

func (h *boltHandle) Close() error {
	h.closed = true
	return h.Bolt.Close()
}
