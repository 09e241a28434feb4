package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

// FuzzRequestViewJSON holds the request view's own JSON encoder to json.Marshal: the same bytes,
// or an error from both. Every string field, the form's too, takes one of the fuzzed strings,
// found by reflection: a field added without its line in appendJSON fails the seeds.
func FuzzRequestViewJSON(f *testing.F) {
	// A row of request list --json from a real store, then what a person may type.
	f.Add("P7H4-CTDC", "Person 1", "printer broken", int64(1764648955), int64(255001767), int32(0), false, "")
	f.Add("18ed54b340e012a768c93abe", `<b>Pat</b> & "Co" \ O'Neil`, "line\nbreak\ttab\r\b\f\x00\x1b[2J\x7f", int64(0), int64(0), int32(3600), true, "called, no answer")
	f.Add("\xff\xfe\xc3", "é€😀\u2028\u2029\u00a0", "\xed\xa0\x80 surrogate, \xf4\x90\x80\x80 too big", int64(-62135596800), int64(1), int32(-34200), false, "<script>")
	f.Add("", "", "", int64(253402300800), int64(0), int32(0), false, "") // year 10000: both refuse
	f.Add("", "", "", int64(0), int64(0), int32(86400), false, "")        // a zone 24 hours off: both refuse
	f.Fuzz(func(t *testing.T, a, b, c string, sec, nsec int64, zone int32, online bool, note string) {
		v := RequestView{Created: time.Unix(sec, nsec).In(time.FixedZone("", int(zone))), Online: online}
		fillStrings(reflect.ValueOf(&v).Elem(), []string{a, b, c})
		if note != "" {
			v.Notes = []tickets.Note{{Time: v.Created, By: a, Text: note}}
		}
		want, wantErr := json.Marshal(&v)
		got, err := v.appendJSON([]byte("prefix"))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("appendJSON error %v, json.Marshal %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("appendJSON wrote\n%q\njson.Marshal\n%q", got, want)
		}
	})
}

// fillStrings sets every string field of the struct v, and of the structs it embeds, to one of
// strs in turn.
func fillStrings(v reflect.Value, strs []string) {
	n := 0
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := range v.NumField() {
			switch f, sf := v.Field(i), v.Type().Field(i); {
			case sf.Anonymous && f.Kind() == reflect.Struct:
				fill(f)
			case f.Kind() == reflect.String:
				f.SetString(strs[n%len(strs)])
				n++
			}
		}
	}
	fill(v)
}

// TestRequestListJSONAsMarshal: request list --json prints, in its writes of a buffer's worth,
// what json.Marshal makes of each request's view.
func TestRequestListJSONAsMarshal(t *testing.T) {
	st := storeWith(t, 300)
	env := Env{Gateway: &noGateway{}, Store: st, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	var out, errs bytes.Buffer
	if status := Run(context.Background(), env, Caller{Name: "alice"}, "request list --json", strings.NewReader(""), &out, &errs); status != 0 {
		t.Fatalf("status %d: %s", status, errs.String())
	}
	page, err := st.Requests(tickets.RequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	tr := &tree{Env: env}
	views := make([]RequestView, 0, len(page.Requests))
	for _, r := range page.Requests {
		views = append(views, tr.view(r))
	}
	var want bytes.Buffer
	if err := writeJSONList(&want, views, appendJSON); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Fatalf("request list --json printed\n%.400s\nwant (json.Marshal)\n%.400s", out.String(), want.String())
	}
}
