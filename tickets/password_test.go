package tickets

import (
	"strings"
	"testing"
)

// testPasswordHash is HashPassword("correct horse battery") with real parameters (64 MiB), made
// once: each argon2id run takes a noticeable fraction of a second on purpose.
var testPasswordHash string

func passwordHash(t *testing.T) string {
	t.Helper()
	if testPasswordHash == "" {
		h, err := HashPassword("correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		testPasswordHash = h
	}
	return testPasswordHash
}

func TestHashPassword(t *testing.T) {
	h := passwordHash(t)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") || strings.Count(h, "$") != 5 {
		t.Errorf("hash %q is not a PHC argon2id string with the documented parameters", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Error("the right password is refused")
	}
	for _, wrong := range []string{"correct horse batterY", "correct horse battery ", "", strings.Repeat("x", 2000)} {
		if CheckPassword(h, wrong) {
			t.Errorf("wrong password %q accepted", wrong)
		}
	}
	h2, err := HashPassword("correct horse battery")
	if err != nil || h2 == h {
		t.Errorf("two hashes of one password are equal (no salt?): %v", err)
	}
	for _, tc := range []struct{ pw, want string }{
		{"short", "at least 12"},
		{strings.Repeat("p", 1025), "at most 1024"},
	} {
		if _, err := HashPassword(tc.pw); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("HashPassword(%d bytes) = %v, want an error saying %q", len(tc.pw), err, tc.want)
		}
	}
}

// TestCheckPasswordMalformed feeds hashes a damaged or hostile store could hold: each is refused,
// and none may panic (argon2 panics on zero rounds or threads).
func TestCheckPasswordMalformed(t *testing.T) {
	good := passwordHash(t)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"other version", with(2, "v=16")},
		{"zero rounds", with(3, "m=64,t=0,p=1")},
		{"zero threads", with(3, "m=64,t=1,p=0")},
		{"too many rounds", with(3, "m=64,t=17,p=1")},
		{"too much memory", with(3, "m=2000000,t=1,p=1")},
		{"parameters garbled", with(3, "m=x")},
		{"salt not base64", with(4, "!!!")},
		{"empty key", with(5, "")},
		{"key too long", with(5, strings.Repeat("A", 100))},
		{"extra field", good + "$x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if CheckPassword(tc.hash, "correct horse battery") {
				t.Errorf("CheckPassword accepted %q", tc.hash)
			}
		})
	}
}
