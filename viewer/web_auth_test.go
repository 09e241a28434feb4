package viewer_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistkit/assist/protocol"
)

// noRedirect keeps the test's client from following anything, so each answer is seen as sent.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func TestWebRefusesWithoutSecretOrFromAnotherOrigin(t *testing.T) {
	e := startWeb(t, protocol.GrantView, nil)
	u, err := url.Parse(e.web.URL())
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://" + u.Host
	secret := u.Query().Get("t")
	if len(secret) < 43 {
		t.Fatalf("secret %q is shorter than 256 bits in base64", secret)
	}
	c := &http.Client{CheckRedirect: noRedirect}
	// do sends a request to our server with that Origin header ("" for none).
	do := func(method, path, originHdr string, cookie *http.Cookie, hdr map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, origin+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if originHdr != "" {
			req.Header.Set("Origin", originHdr)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}

	// The secret in the URL buys the cookie, and only the right secret does.
	if res := do("GET", "/open?t=wrong", "", nil, nil); res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Fatalf("wrong secret: %s, cookies %v", res.Status, res.Cookies())
	}
	res := do("GET", "/open?t="+secret, "", nil, nil)
	if res.StatusCode != http.StatusOK || len(res.Cookies()) != 1 {
		t.Fatalf("right secret: %s, cookies %v", res.Status, res.Cookies())
	}
	cookie := res.Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || len(cookie.Value) < 43 || cookie.Value == secret {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, a 256-bit secret other than the URL's", cookie)
	}
	// The URL is good once: another client is refused, the admitted one goes to its page.
	if res := do("GET", "/open?t="+secret, "", nil, nil); res.StatusCode != http.StatusGone || len(res.Cookies()) != 0 {
		t.Fatalf("second use of the URL: %s, cookies %v; want 410 and no cookie", res.Status, res.Cookies())
	}
	if res := do("GET", "/open?t="+secret, "", cookie, nil); res.StatusCode != http.StatusOK || len(res.Cookies()) != 0 {
		t.Fatalf("the admitted client opening the URL again: %s, cookies %v; want 200 and no new cookie", res.Status, res.Cookies())
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	wrong := &http.Cookie{Name: cookie.Name, Value: strings.Repeat("A", len(secret))}

	for _, tc := range []struct {
		name, method, path, origin string // origin: the Origin header, "" for none
		cookie                     *http.Cookie
		hdr                        map[string]string
		want                       int
	}{
		{"page with the cookie", "GET", "/", "", cookie, nil, 200},
		{"script with the cookie", "GET", "/viewer.js", "", cookie, nil, 200},
		{"page without the cookie", "GET", "/", "", nil, nil, 401},
		{"page with a wrong cookie", "GET", "/", "", wrong, nil, 401},
		{"page with the URL's secret as cookie", "GET", "/", "", &http.Cookie{Name: cookie.Name, Value: secret}, nil, 401},
		{"script without the cookie", "GET", "/viewer.js", "", nil, nil, 401},
		{"page for another site", "GET", "/", "", cookie, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"page with another Origin", "GET", "/", "http://evil.example", cookie, nil, 403},
		{"page under another host name", "GET", "/", "", cookie, map[string]string{"Host": "rebound.example:" + u.Port()}, 421},
		{"ping", "POST", "/ping", origin, cookie, nil, 200},
		{"ping without the cookie", "POST", "/ping", origin, nil, nil, 401},
		{"ping without an Origin", "POST", "/ping", "", cookie, nil, 403},
		{"ping from another Origin", "POST", "/ping", "http://evil.example", cookie, nil, 403},
		{"stream without the cookie", "POST", "/stream", origin, nil, nil, 401},
		{"stream without an Origin", "POST", "/stream", "", cookie, nil, 403},
		{"stream from another Origin", "POST", "/stream", "http://evil.example", cookie, nil, 403},
		{"input from another port", "POST", "/input", "http://127.0.0.1:1", cookie, nil, 403},
		{"end from an opaque Origin", "POST", "/end", "null", cookie, nil, 403},
		{"upload from another Origin", "POST", "/files/upload?dir=/tmp&name=x", "http://evil.example", cookie, nil, 403},
		{"download without the cookie", "GET", "/files/download?path=/etc/hostname", "", nil, nil, 401},
	} {
		if res := do(tc.method, tc.path, tc.origin, tc.cookie, tc.hdr); res.StatusCode != tc.want {
			t.Errorf("%s: %s, want %d", tc.name, res.Status, tc.want)
		}
	}
	select {
	case <-e.s.Ended():
		t.Fatalf("the session ended: %s", e.s.EndReason())
	default:
	}
}
