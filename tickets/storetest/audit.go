package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

func testAppendEventChains(t *testing.T, open Opener) {
	s := fresh(t, open)
	if err := s.VerifyEvents(); err != nil {
		t.Fatalf("empty trail: %v", err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	var prev string
	for i := range 3 {
		e, err := s.AppendEvent(tickets.Event{Time: at, Kind: "k", Attrs: map[string]string{"b": "2", "a": "<&>"}, Seq: 99, Prev: "forged", Hash: "forged"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) || e.Prev != prev || e.Hash == "" || e.Hash == "forged" {
			t.Fatalf("event %d: seq %d prev %q hash %q; the store must fill these", i+1, e.Seq, e.Prev, e.Hash)
		}
		prev = e.Hash
	}
	evs, err := s.Events(tickets.EventFilter{})
	if err != nil || len(evs) != 3 {
		t.Fatalf("Events: %d, %v", len(evs), err)
	}
	if !evs[0].Time.Equal(at) || evs[0].Attrs["a"] != "<&>" {
		t.Errorf("stored event lost its time or attrs: %+v", evs[0])
	}
	if err := s.VerifyEvents(); err != nil {
		t.Fatalf("a time with a zone and escaped JSON must verify: %v", err)
	}
}

func testEventsFilter(t *testing.T, open Opener) {
	s := fresh(t, open)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i, e := range []tickets.Event{
		{Kind: "auth.accepted", Actor: "alice"},
		{Kind: "request.filed", Request: "AAAA-BBBB"},
		{Kind: "sftp.open", Request: "AAAA-BBBB"},
		{Kind: "sftp.close", Request: "AAAA-BBBB"},
		{Kind: "sftp.open", Request: "CCCC-DDDD"},
		{Kind: "sftpx.odd", Request: "CCCC-DDDD"},
		{Kind: "request.closed", Request: "AAAA-BBBB"},
	} {
		e.Time = t0.Add(time.Duration(i) * time.Minute)
		if _, err := s.AppendEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		filter tickets.EventFilter
		want   []uint64
	}{
		{tickets.EventFilter{}, []uint64{1, 2, 3, 4, 5, 6, 7}},
		{tickets.EventFilter{Since: t0.Add(4 * time.Minute)}, []uint64{5, 6, 7}},
		{tickets.EventFilter{Request: "AAAA-BBBB"}, []uint64{2, 3, 4, 7}},
		{tickets.EventFilter{Kind: "sftp."}, []uint64{3, 4, 5}},
		{tickets.EventFilter{Request: "AAAA-BBBB", Kind: "sftp."}, []uint64{3, 4}},
		{tickets.EventFilter{Limit: 2}, []uint64{6, 7}},
		{tickets.EventFilter{Kind: "sftp.", Limit: 2}, []uint64{4, 5}},
		{tickets.EventFilter{Request: "ZZZZ-ZZZZ"}, nil},
	} {
		evs, err := s.Events(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, e := range evs {
			got = append(got, e.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Events(%+v) = %v, want %v", tc.filter, got, tc.want)
		}
	}
}
