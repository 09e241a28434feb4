package helpdesk_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistkit/assist/helpdesk"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// desk is a real gateway with the help desk in front of it on 127.0.0.1.
type desk struct {
	*testenv.Gateway
	Desk  *helpdesk.Server
	HTTP  *httptest.Server
	URL   string
	Logs  *testenv.SyncBuffer
	Clock *clock
}

type deskOptions struct {
	TLS            bool
	Downloads      string
	TrustedProxies []netip.Prefix
	HelpDesk       string // set: /help stamps agents for this gateway under this name
	Recordings     helpdesk.Recordings
}

func startDesk(t *testing.T, o deskOptions) *desk {
	t.Helper()
	g := testenv.StartGateway(t, testenv.Options{})
	d := &desk{Gateway: g, Logs: &testenv.SyncBuffer{}, Clock: &clock{now: time.Now()}}
	var help helpdesk.Help
	if o.HelpDesk != "" {
		help = helpdesk.Help{Name: o.HelpDesk, Addresses: []string{g.Addr}, HostKey: g.HostKey}
	}
	srv, err := helpdesk.New(helpdesk.Config{Help: help,
		Store: g.Store, Gateway: g.Server, SSHAddr: g.Addr, Downloads: o.Downloads, Secure: o.TLS,
		TrustedProxies: o.TrustedProxies, AuthLog: g.Server.AuthLog(), Recordings: o.Recordings,
		Logger: slog.New(slog.NewTextHandler(d.Logs, nil)), Now: d.Clock.Now,
	})
	if err != nil {
		t.Fatalf("helpdesk.New: %v", err)
	}
	d.Desk = srv
	d.HTTP = httptest.NewUnstartedServer(srv)
	if o.TLS {
		d.HTTP.StartTLS()
	} else {
		d.HTTP.Start()
	}
	t.Cleanup(d.HTTP.Close)
	d.URL = d.HTTP.URL
	return d
}

// Passwords are hashed once per test binary: argon2id with 64 MiB is deliberately slow.
var (
	hashOnce sync.Once
	pwHash   string
)

const password = "correct horse battery staple"

// addTech creates a technician whose web password is password.
func (d *desk) addTech(t *testing.T, name string) *testenv.Technician {
	t.Helper()
	hashOnce.Do(func() {
		var err error
		if pwHash, err = tickets.HashPassword(password); err != nil {
			panic(err)
		}
	})
	tech := d.AddTechnician(t, name, false)
	if _, err := d.Store.UpdateUser(name, func(u *tickets.User) error { u.PasswordHash = pwHash; return nil }); err != nil {
		t.Fatal(err)
	}
	return tech
}

// clock is the help desk's time, moved by tests (session expiry, sign-in delays).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// client is a browser-like HTTP client: a cookie jar, redirects not followed so tests see them.
type client struct {
	t    *testing.T
	d    *desk
	http *http.Client
	xff  string // X-Forwarded-For sent with every request, as a proxy in front would
}

func (d *desk) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	hc := *d.HTTP.Client() // a copy: httptest hands every caller the same client
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, d: d, http: &hc}
}

// clientFrom is a client whose connections come from the loopback address ip (127.0.0.2, …),
// another machine as far as the help desk can tell.
func (d *desk) clientFrom(t *testing.T, ip string) *client {
	c := d.client(t)
	tr := d.HTTP.Client().Transport.(*http.Transport).Clone()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr.DialContext = dialer.DialContext
	t.Cleanup(tr.CloseIdleConnections)
	c.http.Transport = tr
	return c
}

type response struct {
	*http.Response
	Body string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	if c.xff != "" {
		req.Header.Set("X-Forwarded-For", c.xff)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return response{res, string(body)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.d.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.d.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token in a page's forms.
func (c *client) csrf(page string) string {
	c.t.Helper()
	body := c.get(page).Body
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no csrf field on %s:\n%s", page, body)
	}
	return m[1]
}

// trySignIn submits the sign-in form as a browser would.
func (c *client) trySignIn(user, pw string) response {
	c.t.Helper()
	return c.post("/signin", url.Values{"csrf": {c.csrf("/signin")}, "user": {user}, "password": {pw}})
}

func (c *client) signIn(user string) {
	c.t.Helper()
	if res := c.trySignIn(user, password); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/requests" {
		c.t.Fatalf("sign in as %s: %s → %q\n%s", user, res.Status, res.Header.Get("Location"), res.Body)
	}
}

// fileRequest stores a request as an agent would have filed it (without the agent).
func (d *desk) fileRequest(t *testing.T, r tickets.Request) tickets.Request {
	t.Helper()
	if r.FullName == "" {
		r.FullName = "Pat Person"
	}
	r, err := d.Store.(*tickets.Bolt).CreateRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func auditKinds(t *testing.T, s tickets.Store, kind string) []tickets.Event {
	t.Helper()
	ev, err := s.Events(tickets.EventFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
