package helpdesk

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// views are requests as the list shows them, newest first.
func views() []requestView {
	var vs []requestView
	for i, name := range []string{"Fay Zeta", "Eve Epsilon", "Dora Delta", "Carl Gamma", "Bob Beta", "Ann Alpha"} {
		vs = append(vs, requestView{Code: fmt.Sprintf("CODE-%04d", 6-i), Open: i != 2, Online: i%2 == 0 && i != 2, Active: i == 0, With: "alice"})
		vs[i].FullName = name
		vs[i].Created = timeView{ISO: fmt.Sprintf("2026-11-24T0%d:00:00Z", 6-i)}
	}
	return vs
}

func TestListQuery(t *testing.T) {
	names := func(v listView) []string {
		var out []string
		for _, r := range v.Requests {
			out = append(out, r.FullName)
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
		total int
	}{
		{"", []string{"Fay Zeta", "Eve Epsilon", "Carl Gamma", "Bob Beta", "Ann Alpha"}, 5},
		{"state=all&sort=name&per=2", []string{"Ann Alpha", "Bob Beta"}, 6},
		{"state=all&sort=name&per=2&page=3", []string{"Eve Epsilon", "Fay Zeta"}, 6},
		{"state=all&sort=name&per=2&page=99", []string{"Eve Epsilon", "Fay Zeta"}, 6}, // past the end: the last page
		{"state=closed", []string{"Dora Delta"}, 1},
		{"state=session&q=ALICE", []string{"Fay Zeta"}, 1},
		{"q=beta+bob", []string{"Bob Beta"}, 1},
		{"q=beta+carl", nil, 0},
		{"sort=oldest&state=online", []string{"Bob Beta", "Fay Zeta"}, 2},
		{"state=nonsense&sort=nonsense&page=-1&per=0", []string{"Fay Zeta", "Eve Epsilon", "Carl Gamma", "Bob Beta", "Ann Alpha"}, 5},
	} {
		v, _ := url.ParseQuery(c.query)
		got := parseListQuery(v).page(views())
		if !slices.Equal(names(got), c.want) || got.Total != c.total {
			t.Errorf("?%s: %q of %d, want %q of %d", c.query, names(got), got.Total, c.want, c.total)
		}
	}
}

// FuzzListQuery: whatever the URL says, the query is one the list knows, its own URL reads
// back as itself, and a page of it is in bounds.
func FuzzListQuery(f *testing.F) {
	for _, s := range []string{"", "q=printer&state=online&sort=name&page=2&per=10", "state=all", "q=%22%3E%3Cimg+src%3Dx%3E",
		"page=99999999999999999999", "per=-5", "q=" + strings.Repeat("x", 300), "sort=oldest&sort=name", "q=%ff%fe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q := parseListQuery(v)
		if !slices.Contains(listStates, q.State) || !slices.Contains(listSorts, q.Sort) || q.Page < 1 || q.Per < 1 || q.Per > maxPer ||
			utf8.RuneCountInString(q.Q) > maxQuery {
			t.Fatalf("?%s gives %+v", raw, q)
		}
		u, err := url.Parse(q.URL(nil))
		if err != nil {
			t.Fatalf("URL %q: %v", q.URL(nil), err)
		}
		if back := parseListQuery(u.Query()); back != q && !(back.Q != q.Q && !utf8.ValidString(q.Q)) {
			t.Fatalf("?%s gives %+v, whose URL %s reads back as %+v", raw, q, u, back)
		}
		p := q.page(views())
		if p.Query.Page > p.Pages || len(p.Requests) > q.Per || p.Last > p.Total {
			t.Fatalf("?%s: page %+v", raw, p)
		}
	})
}
