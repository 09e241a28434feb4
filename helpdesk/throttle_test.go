package helpdesk

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDelayDoublesFromOneSecondToTheCap(t *testing.T) {
	want := []time.Duration{0, 0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := delayAfter(i+1, 5); got != w {
			t.Errorf("after %d failures: %s, want %s", i+1, got, w)
		}
	}
	for _, n := range []int{16, 30, 1000} {
		if got := delayAfter(n, 5); got != maxDelay {
			t.Errorf("after %d failures: %s, want the cap %s", n, got, maxDelay)
		}
	}
}

func TestThrottleWaitsPerKeyAndForgets(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newThrottle(func() time.Time { return now }, 1)
	th.fail("a")
	if d, _ := th.wait("a"); d != 0 {
		t.Fatalf("one free failure: wait %s", d)
	}
	th.fail("a")
	d, first := th.wait("a")
	if d != time.Second || !first {
		t.Fatalf("second failure: wait %s first=%v, want 1s, first", d, first)
	}
	if _, first := th.wait("a"); first {
		t.Error("a second refusal in the same wait reported as first")
	}
	if d, _ := th.wait("b"); d != 0 {
		t.Errorf("another key waits %s", d)
	}
	now = now.Add(forgetAfter + time.Second)
	th.fail("a")
	if d, _ := th.wait("a"); d != 0 {
		t.Errorf("a failure a day later: wait %s, want the count restarted", d)
	}
}

func TestThrottleStaysBoundedAndKeepsLockedKeys(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newThrottle(func() time.Time { return now }, 0)
	th.fail("locked") // free 0: locked at once
	for i := range maxTracked + 50 {
		now = now.Add(2 * time.Second) // each earlier key's wait is over
		th.fail("k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String())
		if i == 0 {
			// keep "locked" locked throughout
			th.m["locked"].until = now.Add(time.Hour * 24 * 365)
		}
	}
	if len(th.m) > maxTracked {
		t.Errorf("%d keys tracked, want at most %d", len(th.m), maxTracked)
	}
	if _, ok := th.m["locked"]; !ok {
		t.Error("a locked key was dropped to make room")
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                "192.0.2.7",
		"::ffff:192.0.2.7":         "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::": "2001:db8:1:2::/64",
		"fe80::1%eth0":             "fe80::/64",
	} {
		if got := addrKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
	if a, b := accountKey("Alice", netip.MustParseAddr("192.0.2.7")), accountKey("alice", netip.MustParseAddr("192.0.2.8")); a == b || a != "alice 192.0.2.7" {
		t.Errorf("accountKey: %q and %q, want the account at each address apart", a, b)
	}
}

// FuzzSafeNext: whatever a sign-in form's next field holds, the redirect stays on this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/requests/ABCD-EFGH", "//evil.example", "/\\evil", "https://evil.example/", "/%2f%2fevil", "javascript:alert(1)", "/signin?next=//x", "", " /x", "/\t/evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/requests" && got != next {
			t.Fatalf("safeNext(%q) = %q: neither the input nor the default", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}
