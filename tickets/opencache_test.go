package tickets

import (
	"fmt"
	"testing"
)

// TestOpenListFollowsChanges: the open list decodes from its cache only what did not change,
// so after a note, a close, a new filing and an owner set and cleared the next list shows each
// of them, and a caller changing the notes it was handed does not change what the next list
// hands out.
func TestOpenListFollowsChanges(t *testing.T) {
	s, _ := openTestStore(t)
	var codes []string
	for i := range 3 {
		r, err := s.CreateRequest(sampleRequest(fmt.Sprintf("person %d", i), fmt.Sprintf("SHA256:agent-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Code)
	}
	list := func() map[string]Request {
		t.Helper()
		page, err := s.Requests(RequestQuery{})
		if err != nil {
			t.Fatal(err)
		}
		byCode := map[string]Request{}
		for _, r := range page.Requests {
			byCode[r.Code] = r
		}
		return byCode
	}
	if got := list(); len(got) != 3 {
		t.Fatalf("%d open requests listed, want 3", len(got))
	}
	if _, err := s.AddNote(Noting{CodeOrID: codes[0], By: "alice", Text: "printer E-42"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRequest(codes[1], func(r *Request) error { r.State = StateClosed; return nil }); err != nil {
		t.Fatal(err)
	}
	fourth, err := s.CreateRequest(sampleRequest("person 3", "SHA256:agent-3"))
	if err != nil {
		t.Fatal(err)
	}
	got := list()
	if _, ok := got[codes[1]]; ok || len(got) != 3 {
		t.Fatalf("open list after a close and a filing: %v", keys(got))
	}
	if _, ok := got[fourth.Code]; !ok {
		t.Fatalf("the new request %s is not listed: %v", fourth.Code, keys(got))
	}
	notes := got[codes[0]].Notes
	if len(notes) != 1 || notes[0].Text != "printer E-42" {
		t.Fatalf("the noted request lists notes %+v", notes)
	}
	notes[0].Text = "changed by a caller"
	if again := list()[codes[0]].Notes; again[0].Text != "printer E-42" {
		t.Fatalf("a caller's change reached the next list: %+v", again)
	}
	// A field the new value leaves out (omitempty) is gone from the list too.
	for _, owner := range []string{"alice", ""} {
		if _, err := s.UpdateRequest(codes[2], func(r *Request) error { r.Owner = owner; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := list()[codes[2]].Owner; got != owner {
			t.Fatalf("owner set to %q, the list says %q", owner, got)
		}
	}
}

func keys(m map[string]Request) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
