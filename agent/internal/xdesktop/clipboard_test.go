package xdesktop

import (
	"log/slog"
	"strings"
	"testing"
)

// TestClipboardRoundTrip passes text both ways between two desktops on one display: two X
// clients, so every transfer goes through the server's selection protocol.
func TestClipboardRoundTrip(t *testing.T) {
	a := openTest(t, "-screen", "0", "320x240x24")
	b, err := Open(a.Display(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	if got, err := b.ReadClipboard(); err != nil || got != "" {
		t.Fatalf("empty clipboard: %q, %v", got, err)
	}
	for _, tc := range []struct {
		from, to *Desktop
		text     string
	}{
		{a, b, "hello from the technician"},
		{b, a, "réponse — ünïcödé ✓\nsecond line"},
		{a, b, strings.Repeat("0123456789abcdef", 10000)},
	} {
		t.Logf("%d bytes", len(tc.text))
		if err := tc.from.WriteClipboard(tc.text); err != nil {
			t.Fatal(err)
		}
		got, err := tc.to.ReadClipboard()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.text {
			t.Fatalf("read %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tc.text), tc.text)
		}
		// The writer reads its own text back without a round trip through the server.
		if got, _ := tc.from.ReadClipboard(); got != tc.text {
			t.Fatalf("writer reads back %.40q", got)
		}
	}
	if err := a.WriteClipboard(strings.Repeat("x", maxClipboard+1)); err == nil {
		t.Fatal("oversized clipboard text was accepted")
	}
}

func TestClipboardLatin1Target(t *testing.T) {
	a := openTest(t, "-screen", "0", "320x240x24")
	if err := a.WriteClipboard("café €"); err != nil {
		t.Fatal(err)
	}
	b, err := Open(a.Display(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := b.clip.convert(b.clip.atoms.str)
	if err != nil {
		t.Fatal(err)
	}
	if got != "café ?" {
		t.Fatalf("STRING target = %q, want %q", got, "café ?")
	}
}
