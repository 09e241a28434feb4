package tickets

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCodeAlphabet(t *testing.T) {
	for _, r := range "0O1ILUV" {
		if strings.ContainsRune(codeAlphabet, r) {
			t.Errorf("alphabet has %q, which is misheard or misread over the phone", r)
		}
	}
	seen := map[rune]bool{}
	for _, r := range codeAlphabet {
		if seen[r] {
			t.Errorf("alphabet has %q twice (biases codes)", r)
		}
		seen[r] = true
		if !(r >= '2' && r <= '9' || r >= 'A' && r <= 'Z') {
			t.Errorf("alphabet has %q: codes are digits and capital letters", r)
		}
	}
}

var codeShape = regexp.MustCompile(`^[` + codeAlphabet + `]{4}-[` + codeAlphabet + `]{4}$`)

func TestNewCodeShapeAndUniqueness(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	counts := map[rune]int{}
	for range n {
		c := newCode()
		if !codeShape.MatchString(c) {
			t.Fatalf("newCode() = %q, want XXXX-XXXX from the code alphabet", c)
		}
		if seen[c] {
			t.Fatalf("newCode() repeated %q within %d codes", c, n)
		}
		seen[c] = true
		for _, r := range strings.ReplaceAll(c, "-", "") {
			counts[r]++
		}
	}
	// Every character turns up: a broken randIndex that never reaches the end of the alphabet
	// would show here. 80000 draws over 29 characters: about 2760 each.
	for _, r := range codeAlphabet {
		if counts[r] < 2000 {
			t.Errorf("character %q drawn %d times in %d, expected about %d", r, counts[r], 8*n, 8*n/len(codeAlphabet))
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	for _, tc := range []struct {
		in, want, wantErr string
	}{
		{"K7QH-4ZPD", "K7QH-4ZPD", ""},
		{"k7qh-4zpd", "K7QH-4ZPD", ""},
		{"K7QH4ZPD", "K7QH-4ZPD", ""},
		{"k7qh 4zpd", "K7QH-4ZPD", ""},
		{" K7 QH-4Z PD ", "K7QH-4ZPD", ""},
		{"K-7-Q-H-4-Z-P-D", "K7QH-4ZPD", ""},
		{"K7QH-4ZP", "", "want 8 characters"},
		{"K7QH-4ZPDX", "", "want 8 characters"},
		{"", "", "want 8 characters"},
		{"----", "", "want 8 characters"},
		{"K7QH-4ZP0", "", `character '0' is not used`},
		{"K7QH-4ZPO", "", `character 'O' is not used`},
		{"K7QH-4ZPI", "", `character 'I' is not used`},
		{"K7QH-4ZPl", "", `character 'l' is not used`},
		{"K7QH-4ZPu", "", `character 'u' is not used`},
		{"K7QH_4ZPD", "", `character '_' is not used`},
		{"K7QH\t4ZPD", "", `character '\t' is not used`},
		{"K7QH-4ZPD\n", "", `character '\n' is not used`},
		{"ＫＫＫＫＫＫＫＫ", "", `character 'Ｋ' is not used`}, // fullwidth K is not K
		{"ſſſſſſſſ", "", `character 'ſ' is not used`}, // long s upper-cases to S, but it is not S
		{"K7QH-4ZPD" + strings.Repeat("X", 100), "", "want 8 characters"},
	} {
		got, err := NormalizeCode(tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("NormalizeCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizeCode(%q) = %q, want an error saying %q", tc.in, got, tc.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "request code") {
			t.Errorf("NormalizeCode(%q) error %q, want it to say %q", tc.in, err, tc.wantErr)
		}
		if len(err.Error()) > 120 {
			t.Errorf("NormalizeCode(%q) error is %d bytes: a long input must be shortened", tc.in, len(err.Error()))
		}
	}
}

func TestNewIDOrdered(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 100 {
		id := newID(t0.Add(time.Duration(i) * time.Nanosecond))
		if len(id) != 24 || id <= prev {
			t.Fatalf("newID #%d = %q after %q: want 24 hex digits sorting by time", i, id, prev)
		}
		if _, err := NormalizeCode(id); err == nil {
			t.Fatalf("ID %q normalizes as a code; Request(codeOrID) could not tell them apart", id)
		}
		prev = id
	}
}

func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"K7QH-4ZPD", "k7qh 4zpd", "K7QH4ZPD", "K7QH-4ZP0", "", "ſſſſſſſſ", "ＫＫＫＫＫＫＫＫ", "\xff\xfe", "K-7-Q-H-4-Z-P-D"} {
		f.Add(s)
	}
	for range 5 {
		f.Add(newCode())
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeCode(s)
		if err != nil {
			if got != "" {
				t.Fatalf("NormalizeCode(%q) returned %q with error %v", s, got, err)
			}
			return
		}
		if !codeShape.MatchString(got) {
			t.Fatalf("NormalizeCode(%q) = %q, not XXXX-XXXX from the alphabet", s, got)
		}
		if again, err := NormalizeCode(got); err != nil || again != got {
			t.Fatalf("NormalizeCode(%q) = %q, %v; not idempotent", got, again, err)
		}
		// What was accepted is the code with dashes and spaces, in either case: nothing else.
		var kept strings.Builder
		for _, r := range s {
			switch {
			case r == '-' || r == ' ':
			case r >= 'a' && r <= 'z':
				kept.WriteRune(r - 'a' + 'A')
			default:
				kept.WriteRune(r)
			}
		}
		if kept.String() != strings.ReplaceAll(got, "-", "") {
			t.Fatalf("NormalizeCode(%q) = %q, but the input's characters are %q", s, got, kept.String())
		}
	})
}
