package etcdstore

import (
	"testing"
	"time"
)

// abandon stops s as a killed gateway stops: no lease given back, no key deleted; the
// connection just goes.
func abandon(s *Store) {
	s.presence.stop()
	s.cancel()
	s.cli.Close()
}

// TestPresenceOfADeadGateway: an agent on gateway A is online at gateway B; when A dies without
// a word, B shows it offline once A's lease runs out, and the session A held is spent by B.
func TestPresenceOfADeadGateway(t *testing.T) {
	prefix := newPrefix(t)
	a := openAt(t, prefix, "gw-a", true, nil)
	b := openAt(t, prefix, "gw-b", false, nil)
	if b.Online("req-1") {
		t.Fatal("online before any gateway holds it")
	}
	if err := a.AgentOnline("req-1"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "gateway B sees the agent online", func() bool { return b.AgentGateway("req-1") == "gw-a" })

	if err := a.AgentOffline("req-1"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "gateway B sees the agent go", func() bool { return !b.Online("req-1") })

	if err := a.AgentOnline("req-1"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "gateway B sees the agent back", func() bool { return b.Online("req-1") })
	died := time.Now()
	abandon(a)
	waitUntil(t, 5*time.Second, "gateway B sees the dead gateway's agent offline", func() bool { return !b.Online("req-1") })
	t.Logf("offline at gateway B %s after gateway A died (lease TTL %s)", time.Since(died).Round(10*time.Millisecond), a.leaseTTL)
}

// waitUntil polls cond, which a watch makes true, failing after d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
