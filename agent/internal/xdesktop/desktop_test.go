package xdesktop

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// A display that is not there is an error from Go, naming the display and giving a hint, never
// a crash in C.
func TestOpenMissingDisplay(t *testing.T) {
	_, err := Open(":4999", slog.New(slog.DiscardHandler))
	if !errors.Is(err, ErrNoDisplay) {
		t.Fatalf("Open(:4999) = %v, want ErrNoDisplay", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, `xdesktop: cannot open X display ":4999": `) || !strings.Contains(msg, "hint:") {
		t.Fatalf("error %q lacks the display or the hint", msg)
	}
	t.Setenv("DISPLAY", "")
	if _, err := Open("", nil); !errors.Is(err, ErrNoDisplay) || !strings.Contains(err.Error(), "DISPLAY is not set") {
		t.Fatalf("Open with no DISPLAY = %v", err)
	}
}
