package helpdesk

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/assistkit/assist/tickets"
)

// listQuery is what the request list shows, from its URL's query: the search words (q), which
// requests (state), their order (sort) and the page (page, per). Every value is checked here;
// anything else falls back to the default, so a hand-edited URL shows a list, never an error.
type listQuery struct {
	Q     string
	State string // open (default), online, offline, session, closed, all
	Sort  string // newest (default), oldest, name, computer, code
	Page  int    // from 1
	Per   int    // requests a page
}

var (
	listStates = []string{"open", "online", "offline", "session", "closed", "all"}
	listSorts  = []string{"newest", "oldest", "name", "computer", "code"}
)

const (
	defaultPer = 50
	maxPer     = 200
	maxQuery   = 200 // runes of search text kept
)

func parseListQuery(v url.Values) listQuery {
	q := listQuery{State: "open", Sort: "newest", Page: 1, Per: defaultPer}
	if r := []rune(strings.TrimSpace(v.Get("q"))); len(r) > 0 {
		// Trimmed again after the cut, which can leave a space at the end: the page's links carry
		// Q, and a reader of them trims.
		q.Q = strings.TrimSpace(string(r[:min(len(r), maxQuery)]))
	}
	if s := v.Get("state"); slices.Contains(listStates, s) {
		q.State = s
	}
	if s := v.Get("sort"); slices.Contains(listSorts, s) {
		q.Sort = s
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		q.Page = n
	}
	if n, err := strconv.Atoi(v.Get("per")); err == nil && n > 0 {
		q.Per = min(n, maxPer)
	}
	return q
}

// closed reports whether the list needs closed requests from the store.
func (q listQuery) closed() bool { return q.State == "closed" || q.State == "all" }

// URL is the list's address with q's settings changed by edit; defaults are left out.
func (q listQuery) URL(edit func(*listQuery)) string {
	if edit != nil {
		edit(&q)
	}
	v := url.Values{}
	set := func(k, val, def string) {
		if val != def {
			v.Set(k, val)
		}
	}
	set("q", q.Q, "")
	set("state", q.State, "open")
	set("sort", q.Sort, "newest")
	set("page", strconv.Itoa(q.Page), "1")
	set("per", strconv.Itoa(q.Per), strconv.Itoa(defaultPer))
	if len(v) == 0 {
		return "/requests"
	}
	return "/requests?" + v.Encode()
}

// SortURL is the address that sorts by key, from the first page.
func (q listQuery) SortURL(key string) string {
	return q.URL(func(q *listQuery) { q.Sort, q.Page = key, 1 })
}

// keep reports whether r passes the query's state and search.
func (q listQuery) keep(r requestView) bool {
	switch q.State {
	case "open":
		if !r.Open {
			return false
		}
	case "online":
		if !r.Online {
			return false
		}
	case "offline":
		if !r.Open || r.Online {
			return false
		}
	case "session":
		if !r.Active {
			return false
		}
	case "closed":
		if r.Open {
			return false
		}
	}
	return q.Q == "" || matches(r, q.Q)
}

// matches reports whether every word of the search is in one of the request's fields (any case).
func matches(r requestView, search string) bool {
	fields := strings.ToLower(strings.Join([]string{r.Code, r.FullName, r.UserName, r.Computer, r.Email,
		r.Phone, r.Message, r.LocalIP, r.RemoteAddr, r.With}, "\x00"))
	for _, w := range strings.Fields(strings.ToLower(search)) {
		if !strings.Contains(fields, w) {
			return false
		}
	}
	return true
}

// sort orders views as the query asks; ties keep the store's order (newest first).
func (q listQuery) sort(views []requestView) {
	by := map[string]func(a, b requestView) int{
		"oldest": func(a, b requestView) int { return strings.Compare(a.Created.ISO, b.Created.ISO) },
		"name": func(a, b requestView) int {
			return cmp.Compare(strings.ToLower(a.FullName), strings.ToLower(b.FullName))
		},
		"computer": func(a, b requestView) int {
			return cmp.Compare(strings.ToLower(a.Computer), strings.ToLower(b.Computer))
		},
		"code": func(a, b requestView) int { return strings.Compare(a.Code, b.Code) },
	}[q.Sort]
	if by != nil {
		slices.SortStableFunc(views, by)
	}
}

// listView is one page of the request list.
type listView struct {
	Query            listQuery
	States, Sorts    []string
	Requests         []requestView
	Total            int // requests that match, on every page
	First, Last      int // the page's requests are First..Last of Total (from 1)
	Pages            int
	Online           int // of Total
	PrevURL, NextURL string
	CanWork          bool // the account may claim: each unclaimed row has a Claim button
}

// Here is the list's own address, where a form on it comes back to.
func (q listQuery) Here() string { return q.URL(nil) }

// page applies q to every request view (newest first, as the store lists them).
func (q listQuery) page(all []requestView) listView {
	v := listView{Query: q, States: listStates, Sorts: listSorts}
	var kept []requestView
	for _, r := range all {
		if q.keep(r) {
			kept = append(kept, r)
			if r.Online {
				v.Online++
			}
		}
	}
	q.sort(kept)
	v.Total = len(kept)
	v.Pages = max(1, (v.Total+q.Per-1)/q.Per)
	q.Page = min(q.Page, v.Pages)
	v.Query = q
	start := (q.Page - 1) * q.Per
	v.Requests = kept[start:min(start+q.Per, v.Total)]
	if len(v.Requests) > 0 {
		v.First, v.Last = start+1, start+len(v.Requests)
	}
	if q.Page > 1 {
		v.PrevURL = q.URL(func(q *listQuery) { q.Page-- })
	}
	if q.Page < v.Pages {
		v.NextURL = q.URL(func(q *listQuery) { q.Page++ })
	}
	return v
}

// technicianInSession names who holds the request's live session: the technician of its active
// credential, or "" when there is none.
func (s *Server) technicianInSession(r tickets.Request) string {
	creds, err := s.cfg.Store.CredentialsForRequest(r.ID)
	if err != nil {
		s.log.Error("list credentials", "request", r.Code, "err", err)
		return ""
	}
	for _, c := range creds {
		if c.State == tickets.CredentialActive {
			return c.Technician
		}
	}
	return ""
}
