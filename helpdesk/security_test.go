package helpdesk_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/tickets"
)

func TestEveryPageButSignInNeedsASession(t *testing.T) {
	d := startDesk(t, deskOptions{Downloads: t.TempDir()})
	d.addTech(t, "alice")
	req := d.fileRequest(t, tickets.Request{})
	c := d.client(t)
	for _, path := range []string{"/", "/requests", "/requests/" + req.Code, "/download", "/download/assist-linux-amd64", "/no/such/page", "/requests/" + req.Code + "/otc"} {
		res := c.get(path)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/signin" || loc.Query().Get("next") != path {
			t.Errorf("GET %s without a session: %s → %q, want 303 to /signin?next=%s", path, res.Status, res.Header.Get("Location"), path)
		}
		if strings.Contains(res.Body, req.FullName) {
			t.Errorf("GET %s without a session shows the request", path)
		}
	}
	for _, path := range []string{"/requests/" + req.Code + "/otc", "/requests/" + req.Code + "/close", "/requests/" + req.Code + "/claim",
		"/requests/" + req.Code + "/release", "/requests/" + req.Code + "/notes", "/signout"} {
		if res := c.post(path, url.Values{"csrf": {"x"}}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %s, want 401", path, res.Status)
		}
	}
	// A made-up session cookie is no session.
	u, _ := url.Parse(d.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "assist-session", Value: "forged-session-id"}})
	if res := c.get("/requests"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /requests with a forged session cookie: %s, want 303", res.Status)
	}
	for _, path := range []string{"/signin", "/static/style.css", "/static/app.js", "/static/icon.svg"} {
		if res := c.get(path); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a session: %s, want 200", path, res.Status)
		}
	}
	assertUntouched(t, d, req.Code)
}

// assertUntouched checks that a request is still open and has no credential.
func assertUntouched(t *testing.T, d *desk, code string) {
	t.Helper()
	r, err := d.Store.Request(code)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := d.Store.CredentialsForRequest(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Open() || len(creds) != 0 || r.Owner != "" || len(r.Notes) != 0 {
		t.Errorf("request %s: open=%v, %d credentials, owner %q, %d notes; want open with none, unclaimed, no notes", code, r.Open(), len(creds), r.Owner, len(r.Notes))
	}
}

func TestFormsWithoutTheRightCSRFTokenAreRefused(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	d.addTech(t, "bob")
	req := d.fileRequest(t, tickets.Request{})
	alice, bob := d.client(t), d.client(t)
	alice.signIn("alice")
	bob.signIn("bob")
	bobToken := bob.csrf("/requests")
	for _, path := range []string{"/requests/" + req.Code + "/otc", "/requests/" + req.Code + "/close", "/requests/" + req.Code + "/claim",
		"/requests/" + req.Code + "/release", "/requests/" + req.Code + "/notes", "/signout"} {
		for name, form := range map[string]url.Values{
			"no token":            {},
			"empty token":         {"csrf": {""}},
			"wrong token":         {"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
			"another's token":     {"csrf": {bobToken}},
			"token in the query":  nil,
			"token twice, 1 good": {"csrf": {"bad", alice.csrf("/requests")}},
		} {
			p := path
			if form == nil {
				p += "?csrf=" + url.QueryEscape(alice.csrf("/requests"))
				form = url.Values{}
			}
			form.Set("text", "a note")
			res := alice.post(p, form)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %s: %s, want 403", path, name, res.Status)
			}
			if strings.Contains(res.Header.Get("Content-Type"), "otc") {
				t.Errorf("POST %s with %s sent an .otc file", path, name)
			}
		}
	}
	assertUntouched(t, d, req.Code)
	if res := alice.get("/requests"); res.StatusCode != http.StatusOK {
		t.Errorf("after refused sign-outs, alice's session: %s, want still signed in", res.Status)
	}
	if logs := d.Logs.String(); !strings.Contains(logs, "CSRF") {
		t.Errorf("refused forms not logged:\n%s", logs)
	}

	// The sign-in form too: a right password without the form's token signs nobody in.
	c := d.client(t)
	c.get("/signin")
	res := c.post("/signin", url.Values{"user": {"alice"}, "password": {password}})
	if res.StatusCode != http.StatusForbidden || sessionCookie(res) != nil {
		t.Errorf("sign-in without token: %s, session cookie %v; want 403 and none", res.Status, sessionCookie(res))
	}
	res = c.post("/signin", url.Values{"csrf": {"guess"}, "user": {"alice"}, "password": {password}})
	if res.StatusCode != http.StatusForbidden || sessionCookie(res) != nil {
		t.Errorf("sign-in with a wrong token: %s, want 403", res.Status)
	}
}

func sessionCookie(res response) *http.Cookie {
	for _, c := range res.Cookies() {
		if strings.HasSuffix(c.Name, "assist-session") && c.Value != "" {
			return c
		}
	}
	return nil
}

func TestValidFormsWork(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	req := d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Pat Person"}})
	c := d.client(t)
	c.signIn("alice")

	res := c.post("/requests/"+req.Code+"/otc", url.Values{"csrf": {c.csrf("/requests/" + req.Code)}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("open connection: %s\n%s", res.Status, res.Body)
	}
	for h, want := range map[string]string{
		"Content-Type":        "application/x-assist-otc",
		"Content-Disposition": "attachment; filename=" + req.Code + ".otc",
		"Cache-Control":       "no-store",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	o, err := tickets.ParseOTC([]byte(res.Body))
	if err != nil {
		t.Fatalf("downloaded .otc: %v", err)
	}
	if o.Request != req.Code || o.Technician != "alice" || len(o.Gateways) != 1 || o.Gateways[0] != d.Addr {
		t.Errorf("otc = request %s technician %s gateways %v; want %s, alice, [%s]", o.Request, o.Technician, o.Gateways, req.Code, d.Addr)
	}

	// The .otc claimed the request; release, claim again from the list, note it.
	if r, _ := d.Store.Request(req.Code); r.Owner != "alice" {
		t.Errorf("after Open Connection the owner is %q, want alice", r.Owner)
	}
	for _, step := range []struct {
		path string
		form url.Values
		to   string
	}{
		{"/release", nil, "/requests/" + req.Code},
		{"/claim", url.Values{"back": {"/requests?q=pat&state=all"}}, "/requests?q=pat&state=all"},
		{"/release", url.Values{"back": {"//evil.example/"}}, "/requests/" + req.Code},
		{"/claim", url.Values{"back": {"/requests\\evil"}}, "/requests"},
		{"/notes", url.Values{"text": {"called\r\nno answer"}}, "/requests/" + req.Code + "#notes"},
	} {
		form := url.Values{"csrf": {c.csrf("/requests")}}
		for k, v := range step.form {
			form[k] = v
		}
		if res := c.post("/requests/"+req.Code+step.path, form); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != step.to {
			t.Errorf("POST %s %v: %s → %q, want 303 to %q", step.path, step.form, res.Status, res.Header.Get("Location"), step.to)
		}
	}
	if r, _ := d.Store.Request(req.Code); r.Owner != "alice" || len(r.Notes) != 1 || r.Notes[0].Text != "called\nno answer" || r.Notes[0].By != "alice" {
		t.Errorf("after claim and note: owner %q, notes %+v", r.Owner, r.Notes)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", tickets.MaxNoteLen+1)} {
		if res := c.post("/requests/"+req.Code+"/notes", url.Values{"csrf": {c.csrf("/requests")}, "text": {bad}}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("a note of %d bytes: %s, want 400", len(bad), res.Status)
		}
	}

	res = c.post("/requests/"+req.Code+"/close", url.Values{"csrf": {c.csrf("/requests/" + req.Code)}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/requests" {
		t.Fatalf("close: %s → %q", res.Status, res.Header.Get("Location"))
	}
	r, _ := d.Store.Request(req.Code)
	if r.Open() || r.ClosedBy != "alice" {
		t.Errorf("after close: state %s by %q, want closed by alice", r.State, r.ClosedBy)
	}
	list := c.get("/requests").Body
	if !strings.Contains(list, "Closed request "+req.Code) || strings.Contains(list, `href="/requests/`+req.Code+`"`) {
		t.Errorf("list after close: want the flash and no row for %s:\n%s", req.Code, list)
	}
	if res := c.post("/requests/"+req.Code+"/otc", url.Values{"csrf": {c.csrf("/requests")}}); res.StatusCode != http.StatusConflict {
		t.Errorf("open connection on a closed request: %s, want 409", res.Status)
	}

	res = c.post("/signout", url.Values{"csrf": {c.csrf("/requests")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %s", res.Status)
	}
	if res := c.get("/requests"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %s, want 303 to sign-in", res.Status)
	}
}

func TestRequestFieldsAreShownAsText(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	evil := tickets.Request{
		Form: tickets.Form{
			FullName: `<script>alert("name")</script>`,
			UserName: `"><img src=x onerror=alert(1)>`,
			Computer: `<b>bold</b>&amp;`,
			Email:    `x@example.org`,
			Phone:    `+1 (555) 0100`,
			Message:  "<iframe src=//evil.example></iframe>\n</td></tr></table><h1>forged</h1>",
			LocalIP:  "10.0.0.7",
		},
	}
	req := d.fileRequest(t, evil)
	c := d.client(t)
	c.signIn("alice")
	for _, page := range []string{"/requests", "/requests/" + req.Code} {
		body := c.get(page).Body
		for _, bad := range []string{"<script>alert", "<img src=x", "<b>bold", "<iframe", "<h1>forged", "&amp;amp;amp;"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q unescaped", page, bad)
			}
		}
		for _, v := range []string{evil.FullName, evil.Computer} {
			if !strings.Contains(body, html.EscapeString(v)) && !strings.Contains(body, escapeLikeTemplate(v)) {
				t.Errorf("%s does not show %q as text", page, v)
			}
		}
	}
	const evilNote = "<script>alert('note')</script></li></ol><h1>forged</h1>"
	if res := c.post("/requests/"+req.Code+"/notes", url.Values{"csrf": {c.csrf("/requests")}, "text": {evilNote}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add a note: %s", res.Status)
	}
	body := c.get("/requests/" + req.Code).Body
	if strings.Contains(body, "<script>alert('note')") || !strings.Contains(body, escapeLikeTemplate(evilNote)) {
		t.Errorf("connect screen does not show the note %q as text", evilNote)
	}
	for _, v := range []string{evil.UserName, evil.Message} {
		if !strings.Contains(body, escapeLikeTemplate(v)) {
			t.Errorf("connect screen does not show %q as text", v)
		}
	}
}

// escapeLikeTemplate is html/template's escaping of text: it writes quotes as &#34; and &#39;.
func escapeLikeTemplate(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "\x00", "\uFFFD").Replace(s)
}

func TestRepeatedWrongPasswordsAreSlowedAndLogged(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	c := d.client(t)
	const free = 5 // failures before the first wait
	for i := 1; i <= free; i++ {
		res := c.trySignIn("alice", "wrong password "+string(rune('a'+i)))
		if res.StatusCode != http.StatusUnauthorized || sessionCookie(res) != nil {
			t.Fatalf("wrong password %d: %s, want 401 and no session", i, res.Status)
		}
	}
	res := c.trySignIn("alice", "wrong again")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Body, "wait 1 second") {
		t.Fatalf("failure %d: %s, want 401 asking to wait 1 second:\n%s", free+1, res.Status, res.Body)
	}
	// During the wait even the right password is refused, unchecked.
	res = c.trySignIn("alice", password)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "1" || sessionCookie(res) != nil {
		t.Fatalf("right password during the wait: %s Retry-After %q, want 429, 1", res.Status, res.Header.Get("Retry-After"))
	}
	// Each further failure doubles the wait.
	d.Clock.Advance(time.Second)
	if res := c.trySignIn("alice", "still wrong"); !strings.Contains(res.Body, "wait 2 seconds") {
		t.Errorf("failure %d: want a 2-second wait:\n%s", free+2, res.Body)
	}
	d.Clock.Advance(2 * time.Second)
	c.signIn("alice")

	// A success starts the count again.
	c2 := d.client(t)
	if res := c2.trySignIn("alice", "wrong"); res.StatusCode != http.StatusUnauthorized || strings.Contains(res.Body, "wait") {
		t.Errorf("first failure after a success: %s, want a plain 401", res.Status)
	}
	// Unknown accounts fail the same way and are logged as such.
	if res := c2.trySignIn("mallory", password); res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Body, "Wrong user name or password.") {
		t.Errorf("unknown user: %s", res.Status)
	}
	// A huge typed name is recorded shortened.
	c2.trySignIn(strings.Repeat("x", 5000), password)

	logs := d.Logs.String()
	if n := strings.Count(logs, `msg="web sign-in failed" user=alice remote=127.0.0.1 reason="wrong password"`); n != free+3 {
		t.Errorf("%d wrong-password lines logged, want %d:\n%s", n, free+3, logs)
	}
	for _, want := range []string{`reason=throttled`, `user=mallory remote=127.0.0.1 reason="invalid user"`, `msg="web sign-in accepted" user=alice`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	failed := auditKinds(t, d.Store, "web.auth.failed")
	if len(failed) != free+6 { // 8 wrong passwords, 1 throttled, 2 invalid users
		t.Errorf("%d web.auth.failed events, want %d: %+v", len(failed), free+6, failed)
	}
	for _, e := range failed {
		if e.Remote != "127.0.0.1" || e.Attrs["reason"] == "" || len(e.Actor) > 70 {
			t.Errorf("event %+v: want remote 127.0.0.1, a reason, and a name of at most 64 bytes", e)
		}
	}
	if ok := auditKinds(t, d.Store, "web.auth.accepted"); len(ok) != 1 || ok[0].Actor != "alice" {
		t.Errorf("web.auth.accepted events = %+v, want one for alice", ok)
	}
}

func TestCookiesAndHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		d := startDesk(t, deskOptions{TLS: tls})
		d.addTech(t, "alice")
		c := d.client(t)
		signin := c.get("/signin")
		res := c.post("/signin", url.Values{"csrf": {csrfField.FindStringSubmatch(signin.Body)[1]}, "user": {"alice"}, "password": {password}})
		for _, r := range []response{signin, res} {
			for _, ck := range r.Cookies() {
				want := strings.HasPrefix(ck.Name, "__Host-") == tls && ck.Secure == tls
				if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || !want {
					t.Errorf("tls=%v cookie %s: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Strict, /, Secure and __Host- with TLS",
						tls, ck.Name, ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure)
				}
			}
		}
		sc := sessionCookie(res)
		if sc == nil || len(sc.Value) < 43 {
			t.Fatalf("tls=%v: session cookie %v, want a 256-bit random ID", tls, sc)
		}
		for _, r := range []response{signin, c.get("/requests"), c.get("/static/style.css")} {
			for h, want := range map[string]string{
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
				"X-Content-Type-Options": "nosniff",
			} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s: %s = %q, want %q", r.Request.URL.Path, h, got, want)
				}
			}
			if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("%s: CSP %q", r.Request.URL.Path, csp)
			}
		}
	}
}

func TestSessionsEnd(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	c := d.client(t)
	c.signIn("alice")
	d.Clock.Advance(29 * time.Minute)
	if res := c.get("/requests"); res.StatusCode != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %s, want still signed in", res.Status)
	}
	d.Clock.Advance(31 * time.Minute)
	if res := c.get("/requests"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %s, want signed out", res.Status)
	}

	c.signIn("alice")
	hash, _ := tickets.HashPassword("a brand new password")
	d.Store.UpdateUser("alice", func(u *tickets.User) error { u.PasswordHash = hash; return nil })
	if res := c.get("/requests"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after a password change: %s, want signed out", res.Status)
	}
}

func TestSignInRedirectStaysOnSite(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	req := d.fileRequest(t, tickets.Request{})
	for next, want := range map[string]string{
		"/requests/" + req.Code: "/requests/" + req.Code,
		"//evil.example/":       "/requests",
		"https://evil.example/": "/requests",
		"/\\evil.example":       "/requests",
		"":                      "/requests",
	} {
		c := d.client(t)
		res := c.post("/signin", url.Values{"csrf": {c.csrf("/signin")}, "user": {"alice"}, "password": {password}, "next": {next}})
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
	}
}
