package uitrace

import (
	"io"
	"strings"
	"testing"
)

// Lines awaited together are found in whatever order the app traced them, and the lines
// before and between are passed over.
func TestAwaitAllTakesEitherOrder(t *testing.T) {
	tr := Read(io.NopCloser(strings.NewReader(`{"msg":"focus","title":"Main","widget":"Withdraw request"}
{"msg":"closed","title":"Allow Alice?"}
{"msg":"rights","title":"Bar","grant":"view"}
{"msg":"window","title":"Bar"}
{"msg":"focus","title":"Main","widget":"Close"}
`)))
	got := tr.AwaitAll(t, []string{"window", "title", "Bar"}, []string{"closed", "title", "Allow Alice?"})
	if got[0]["title"] != "Bar" || got[1]["title"] != "Allow Alice?" {
		t.Fatalf("AwaitAll gave %v", got)
	}
	if f := tr.Await(t, "focus", "widget", "Close"); f["title"] != "Main" {
		t.Fatalf("the line after them: %v", f)
	}
}
