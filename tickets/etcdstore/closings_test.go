package etcdstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// TestWatchClosed: gateway B hears of a request that gateway A closed, whoever holds its agent;
// a watch started after closes it missed yields, from its first read, every request whose agent B
// holds that is no longer open.
func TestWatchClosed(t *testing.T) {
	prefix := newPrefix(t)
	a := openAt(t, prefix, "gw-a", true, nil)
	b := openAt(t, prefix, "gw-b", false, nil)
	file := func(name string) tickets.Request {
		t.Helper()
		filed, err := b.FileRequest(tickets.Filing{Form: tickets.Form{FullName: name}, AgentKey: "SHA256:" + name})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.AgentOnline(filed.Request.ID); err != nil {
			t.Fatal(err)
		}
		return filed.Request
	}
	closeAt := func(s *Store, r tickets.Request) {
		t.Helper()
		if _, err := s.CloseRequest(tickets.Closing{CodeOrID: r.Code, By: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	next := func(ch <-chan string) string {
		t.Helper()
		select {
		case id := <-ch:
			return id
		case <-time.After(5 * time.Second):
			t.Fatal("no closed request heard within 5 s")
			return ""
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := file("pat")
	watch := b.WatchClosed(ctx)
	other := file("sam") // open throughout: never yielded
	closeAt(a, first)
	if id := next(watch); id != first.ID {
		t.Fatalf("heard %q, want %q (closed on gateway A)", id, first.ID)
	}

	late := file("kim")
	closeAt(a, late)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	again := b.WatchClosed(ctx2)
	got := []string{next(again), next(again)}
	slices.Sort(got)
	want := []string{first.ID, late.ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("a new watch's first read yielded %q, want the held and closed %q (not the open %s)", got, want, other.ID)
	}
	cancel2()
	for range again { // ends once its context does
	}
}
