package tickets

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testAuditKey is the audit key of every test store unless a test says otherwise.
var testAuditKey = []byte("test audit key, 32 bytes long!!!")

// fakeClock is a clock that moves one second at each reading, so every record a test makes
// gets a distinct, ordered time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// openTestStore opens a fresh bbolt store in t.TempDir() and closes it when the test ends.
func openTestStore(t *testing.T) (*Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "assist.db")
	return openStoreAt(t, path, testAuditKey), path
}

// openStoreAt opens the store at path with key and closes it when the test ends (closing twice
// is harmless, so a test may close it earlier).
func openStoreAt(t *testing.T, path string, key []byte) *Bolt {
	t.Helper()
	s, err := OpenBolt(path, BoltOptions{AuditKey: key, Now: newFakeClock().Now})
	if err != nil {
		t.Fatalf("OpenBolt(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sampleRequest is a request as the gateway would store it from an agent's form.
func sampleRequest(name, agentKey string) Request {
	return Request{
		Form: Form{
			FullName: name,
			UserName: "user",
			Computer: "PC-042",
			Email:    "user@example.org",
			Phone:    "+1 555 0100",
			Message:  "my printer is on fire",
			LocalIP:  "192.0.2.10",
		},
		AgentKey: agentKey,
	}
}

func mustCreate(t *testing.T, s *Bolt, r Request) Request {
	t.Helper()
	got, err := s.CreateRequest(r)
	if err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	return got
}
