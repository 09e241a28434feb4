package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// pageSamples are the bodies in testdata/page-posts.txt, captured from the page.
func pageSamples(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/page-posts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// recorder is a controller that keeps what it was sent.
type recorder struct{ calls []string }

func (r *recorder) Key(keysym uint32, down bool) error {
	r.calls = append(r.calls, "key")
	if keysym == 0 || keysym > maxKeysym {
		return errBadCall
	}
	return nil
}

func (r *recorder) Pointer(x, y int, buttons uint8) error {
	r.calls = append(r.calls, "pointer")
	if x < -maxCoord || x > maxCoord || y < -maxCoord || y > maxCoord || buttons > 7 {
		return errBadCall
	}
	return nil
}

func (r *recorder) Scroll(dx, dy int) error {
	r.calls = append(r.calls, "scroll")
	if dx < -maxNotches || dx > maxNotches || dy < -maxNotches || dy > maxNotches {
		return errBadCall
	}
	return nil
}

var errBadCall = os.ErrInvalid

func TestParseInputBatchTakesThePagesBodies(t *testing.T) {
	n := 0
	for _, s := range pageSamples(t) {
		if !strings.HasPrefix(s, "[") {
			continue
		}
		evs, err := parseInputBatch(strings.NewReader(s))
		if err != nil || len(evs) == 0 {
			t.Errorf("%s: %d events, %v", s, len(evs), err)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d input samples", n)
	}
}

func TestParseInputBatchRefuses(t *testing.T) {
	for _, body := range []string{
		``, `{}`, `[{"k":[65,1]}] junk`, `[{}]`, `[{"k":[65,1],"p":[1,2,0]}]`,
		`[{"k":[0,1]}]`, `[{"k":[536870912,1]}]`, `[{"k":[65,2]}]`, `[{"k":[65]}]`, `[{"k":[65,1,1]}]`,
		`[{"p":[1,2]}]`, `[{"p":[1,2,8]}]`, `[{"p":[32769,2,0]}]`, `[{"p":[1,-32769,0]}]`,
		`[{"w":[0,101]}]`, `[{"w":[0]}]`, `[{"k":[65,1]},{"w":[1,2,3]}]`, `[{"k":["a",1]}]`,
		`[{"k":[65.5,1]}]`, `[` + strings.Repeat(`{"k":[65,1]},`, 6000) + `{"k":[65,0]}]`,
	} {
		if evs, err := parseInputBatch(strings.NewReader(body)); err == nil {
			name := body
			if len(name) > 60 {
				name = name[:60] + "…"
			}
			t.Errorf("%s: accepted as %v", name, evs)
		}
	}
}

func TestParseClipboardBody(t *testing.T) {
	for _, tc := range []struct {
		body, want string
		ok         bool
	}{
		{`{"text":"from the technician ✓"}`, "from the technician ✓", true},
		{`{"text":""}`, "", true},
		{`{}`, "", false},
		{`{"text":5}`, "", false},
		{`{"text":"a"} x`, "", false},
		{`{"text":"` + strings.Repeat("a", maxClipboardText+1) + `"}`, "", false},
		{`{"text":"` + strings.Repeat(`\u00e9`, maxClipboardText/2) + `"}`, strings.Repeat("é", maxClipboardText/2), true},
	} {
		got, err := parseClipboardBody(strings.NewReader(tc.body))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%.40s: %.20q, %v; want %.20q ok=%v", tc.body, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzInputBatch: whatever a page posts, the parser does not panic, and a batch it accepts
// applies in full with values in the protocol's ranges and survives a round trip.
func FuzzInputBatch(f *testing.F) {
	for _, s := range pageSamples(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := parseInputBatch(bytes.NewReader(body))
		if err != nil {
			return
		}
		var r recorder
		for _, ev := range evs {
			if err := ev.apply(&r); err != nil {
				t.Fatalf("accepted event %+v applies out of range", ev)
			}
		}
		if len(r.calls) != len(evs) {
			t.Fatalf("%d events, %d calls", len(evs), len(r.calls))
		}
		again, err := json.Marshal(evs)
		if err != nil {
			t.Fatal(err)
		}
		evs2, err := parseInputBatch(bytes.NewReader(again))
		if err != nil || !reflect.DeepEqual(evs, evs2) {
			t.Fatalf("round trip of %s: %v, %v", again, evs2, err)
		}
	})
}

// FuzzClipboardBody: the parser does not panic, keeps the bound, and round-trips what it takes.
func FuzzClipboardBody(f *testing.F) {
	for _, s := range pageSamples(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		text, err := parseClipboardBody(bytes.NewReader(body))
		if err != nil {
			return
		}
		if len(text) > maxClipboardText {
			t.Fatalf("accepted %d bytes", len(text))
		}
		again, _ := json.Marshal(map[string]string{"text": text})
		if got, err := parseClipboardBody(bytes.NewReader(again)); err != nil || got != text {
			t.Fatalf("round trip: %q, %v", got, err)
		}
	})
}
