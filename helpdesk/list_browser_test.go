package helpdesk_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// TestBrowserRequestList: the list is searched, filtered, sorted and paged by the server from
// the URL, keeps codes on one line, says who is in session, and shows a hostile search as text.
func TestBrowserRequestList(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	for _, f := range []tickets.Form{
		{FullName: "Dora Delta", Computer: "PC-D"}, {FullName: "Bob Beta", Computer: "PC-B", Message: "printer E-42"},
		{FullName: "Eve Epsilon", Computer: "PC-E"}, {FullName: "Ann Alpha", Computer: "PC-A"},
		{FullName: "Carl Gamma", Computer: "PC-C", Email: "carl@example.org"}, {FullName: "Fay Zeta", Computer: "PC-F"},
	} {
		d.fileRequest(t, tickets.Request{Form: f})
	}
	// One request is online and in a session with alice.
	a := d.StartAgent(t, testenv.AgentOptions{Form: tickets.Form{FullName: "Gus Online", Computer: "PC-G"}, Grant: protocol.GrantView,
		Routes: map[string]agent.Route{protocol.FramebufferChannel: echoRoute(protocol.GrantView)}})
	inSession(t, d, a.Code())

	ctx := newBrowser(t)
	signInBrowser(t, ctx, d, "/requests?per=3")
	counts := func() string { return text(t, ctx, "#counts") }
	if got := counts(); got != "1–3 of 7 · 1 online" {
		t.Errorf("first page says %q", got)
	}
	if got := column(t, ctx, 0); !slices.Equal(got, []string{a.Code(), code(t, d, "Fay Zeta"), code(t, d, "Carl Gamma")}) {
		t.Errorf("first page, newest first: %q", got)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`Math.max(...Array.from(document.querySelectorAll('a.code')).map(a => a.getClientRects().length))`)); n != 1 {
		t.Errorf("a request code is drawn on %d lines, want one", n)
	}
	if row := text(t, ctx, `tr:has(a[href="/requests/`+a.Code()+`"]) .status`); row != "Online In session with alice" {
		t.Errorf("the session's row says %q", row)
	}

	// Pages.
	click(t, ctx, "#next", "4–6 of 7")
	if u := location(t, ctx); u.Query().Get("page") != "2" || u.Query().Get("per") != "3" {
		t.Errorf("second page's address %s", u)
	}
	click(t, ctx, "#next", "7–7 of 7")
	click(t, ctx, "#prev", "4–6 of 7")

	// Sorting by name starts again at the first page, in alphabetical order.
	click(t, ctx, `th a[href*="sort=name"]`, "1–3 of 7 · 1 online")
	if got := column(t, ctx, 1); !slices.Equal(got, []string{"Ann Alpha", "Bob Beta", "Carl Gamma"}) {
		t.Errorf("sorted by name: %q", got)
	}

	// Searching: every word must be somewhere in the request, in any case.
	search(t, ctx, "PRINTER e-42", "open")
	if got := column(t, ctx, 1); !slices.Equal(got, []string{"Bob Beta"}) {
		t.Errorf("search for the message: %q", got)
	}
	search(t, ctx, "example.org", "open")
	if got := column(t, ctx, 1); !slices.Equal(got, []string{"Carl Gamma"}) {
		t.Errorf("search for the email: %q", got)
	}
	// Filtering by state.
	search(t, ctx, "", "online")
	if got := column(t, ctx, 0); !slices.Equal(got, []string{a.Code()}) {
		t.Errorf("online only: %q", got)
	}
	search(t, ctx, "", "offline")
	if got := counts(); got != "1–3 of 6 · 0 online" {
		t.Errorf("offline only: %q", got)
	}

	// A hostile search comes back as text: in the box, and in every link that keeps it.
	hostile := `"><img src=x onerror="document.title='pwned'">`
	search(t, ctx, hostile, "all")
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('q').value`)); got != hostile {
		t.Errorf("the search box holds %q, want %q", got, hostile)
	}
	if got := text(t, ctx, "#counts"); !strings.HasPrefix(got, "No request matches.") {
		t.Errorf("hostile search: %q", got)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img').length`)); n != 0 {
		t.Errorf("%d img elements made from the search", n)
	}
	if title, _ := chromedp.Run(ctx, chromedp.Title()); title == "pwned" {
		t.Error("the search ran as script")
	}
}

// inSession opens a one-time session to code as alice and keeps its framebuffer channel open,
// until the request is in session.
func inSession(t *testing.T, d *desk, code string) {
	t.Helper()
	alice := &testenv.Technician{Name: "alice"}
	alice.Signer, alice.KeyFile = testenv.NewKeyFile(t, t.TempDir(), "alice")
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(alice.Signer.PublicKey())))
	if _, err := d.Store.UpdateUser("alice", func(u *tickets.User) error { u.Keys = append(u.Keys, line); return nil }); err != nil {
		t.Fatal(err)
	}
	o := d.IssueOTC(t, alice, code)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatal(viewer.ChannelError(protocol.FramebufferChannel, err))
	}
	go ssh.DiscardRequests(reqs)
	testenv.WaitFor(t, 10*time.Second, "the request to be in session", func() bool {
		r, err := d.Store.Request(code)
		return err == nil && r.State == tickets.StateActive
	})
}

func signInBrowser(t *testing.T, ctx context.Context, d *desk, path string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.URL+"/signin?next="+url.QueryEscape(path)),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("table.list")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {innerText: ''}).innerText.trim().replace(/\s+/g, ' ')`))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// column is the text of the list's column i, top to bottom.
func column(t *testing.T, ctx context.Context, i int) []string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('table.list tbody tr')).map(tr => tr.cells[`+string(rune('0'+i))+`].innerText.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// click follows the link sel and waits for the counts line to say counts.
func click(t *testing.T, ctx context.Context, sel, counts string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	waitCounts(t, ctx, counts)
}

func waitCounts(t *testing.T, ctx context.Context, prefix string) {
	t.Helper()
	waitPage(t, ctx, "the list to say "+prefix,
		`((document.getElementById('counts') || {innerText: ''}).innerText.trim().replace(/\s+/g, ' ')).startsWith(`+jsString(prefix)+`)`)
}

// waitPage waits until expr holds in the page, across the navigation that a click or a submit
// starts (an evaluation during it fails and is tried again).
func waitPage(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	testenv.WaitFor(t, 20*time.Second, what, func() bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && (`+expr+`)`))
		return err == nil && ok
	})
}

// search submits the search form with q and state, and waits for the new list.
func search(t *testing.T, ctx context.Context, q, state string) {
	t.Helper()
	before := location(t, ctx).String()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('q').value = `+jsString(q)+`;
		document.getElementById('state').value = `+jsString(state)+`;
		document.querySelector('form.filters button[type=submit]').click(); true`)); err != nil {
		t.Fatalf("search %q %s: %v", q, state, err)
	}
	waitPage(t, ctx, "the list searched for "+q, `location.href !== `+jsString(before)+` && document.getElementById('counts') !== null`)
}

func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// code is the code of the request filed under name.
func code(t *testing.T, d *desk, name string) string {
	t.Helper()
	page, err := d.Store.Requests(tickets.RequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Requests {
		if r.FullName == name {
			return r.Code
		}
	}
	t.Fatalf("no request of %s", name)
	return ""
}
