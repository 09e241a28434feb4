package agent

import (
	"strings"
	"testing"

	"github.com/assistkit/assist/tickets"
)

// TestCleanReasonCutsLongReasons: the gateway's reason for ending a session reaches the person
// cut to a name's length rather than replaced by "?".
func TestCleanReasonCutsLongReasons(t *testing.T) {
	long := "the recording failed and this gateway requires one: " + strings.Repeat("é", 100)
	got := cleanReason(long)
	if len(got) > tickets.MaxNameLen || !strings.HasPrefix(got, "the recording failed") || !strings.HasSuffix(got, "…") {
		t.Fatalf("cleanReason(%d bytes) = %q", len(long), got)
	}
	if got := cleanReason("the request was closed"); got != "the request was closed" {
		t.Fatalf("a short reason became %q", got)
	}
}
