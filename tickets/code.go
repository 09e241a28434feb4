package tickets

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// codeAlphabet leaves out 0/O, 1/I/L and U/V so a code survives being read over the phone.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"

const codeLen = 8 // 29^8 ≈ 5·10^11: unguessable enough for a name that is not a credential

// newCode returns a random code such as K7QH-4ZPD.
func newCode() string {
	var b [codeLen]byte
	out := make([]byte, 0, codeLen+1)
	for i := range b {
		out = append(out, codeAlphabet[randIndex(len(codeAlphabet))])
		if i == codeLen/2-1 {
			out = append(out, '-')
		}
	}
	return string(out)
}

// randIndex returns a uniform random number in [0, n) without modulo bias.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("tickets: crypto/rand failed: %v", err)) // never happens on supported platforms
		}
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// NormalizeCode turns what a person typed ("k7qh 4zpd", "K7QH4ZPD") into the canonical
// K7QH-4ZPD form, or reports why it cannot be a code.
func NormalizeCode(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		// ASCII case folding only: strings.ToUpper would also turn 'ſ' (long s) into 'S' and let
		// a lookalike through.
		up := r
		if 'a' <= r && r <= 'z' {
			up = r - 'a' + 'A'
		}
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(codeAlphabet, up):
			b.WriteRune(up)
		default:
			return "", fmt.Errorf("request code %q: character %q is not used in codes", truncate(s, 32), r)
		}
	}
	c := b.String()
	if len(c) != codeLen {
		return "", fmt.Errorf("request code %q: want %d characters like K7QH-4ZPD", truncate(s, 32), codeLen)
	}
	return c[:codeLen/2] + "-" + c[codeLen/2:], nil
}

// newID returns a time-ordered ID: 16 hex digits of Unix nanoseconds, then 8 random ones.
func newID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	if _, err := rand.Read(b[8:]); err != nil {
		panic(fmt.Sprintf("tickets: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// idPrefix is the first ID that newID can make at t or later.
func idPrefix(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano()))
	return hex.EncodeToString(b[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
