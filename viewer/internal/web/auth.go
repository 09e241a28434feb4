package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// newSecret returns 256 random bits, URL-safe.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("viewer page: secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// door admits one browser. The ticket in the URL is good once: the first load trades it for a
// secret of the browser's own, kept in a cookie, and no later load of the URL gets in, so an
// address copied from a terminal, a history or a shared screen opens nothing while the session
// lives.
type door struct {
	ticket string // the secret in the URL

	mu     sync.Mutex
	cookie string // the admitted browser's secret; "" until the ticket was used
}

func newDoor() (*door, error) {
	t, err := newSecret()
	if err != nil {
		return nil, err
	}
	return &door{ticket: t}, nil
}

// admit spends the ticket t and returns the cookie's secret. It fails on a wrong ticket and
// on the right one when it was used already (spent true).
func (d *door) admit(t string) (secret string, spent bool, err error) {
	if subtle.ConstantTimeCompare([]byte(t), []byte(d.ticket)) != 1 {
		return "", false, errors.New("wrong secret")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cookie != "" {
		return "", true, errors.New("the address was used already")
	}
	if d.cookie, err = newSecret(); err != nil {
		return "", false, err
	}
	return d.cookie, false, nil
}

// admitted reports whether c is the admitted browser's secret.
func (d *door) admitted(c string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cookie != "" && subtle.ConstantTimeCompare([]byte(c), []byte(d.cookie)) == 1
}

// guard checks every request before any handler sees it:
//   - Host must be our own 127.0.0.1:PORT, so a DNS-rebound name cannot reach the page;
//   - the admitted browser's cookie must be present (except on /open, which checks the ticket);
//   - a POST (input, the screen stream, uploads, ending the session) must carry our Origin, so
//     another site open in the same browser cannot drive the person's desktop;
//   - a GET that says it comes from another site is refused as well.
//
// And every answer forbids framing, sniffing, caching and anything but our own scripts.
func (w *Server) guard(next http.Handler) http.Handler {
	host := w.origin[len("http://"):]
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := rw.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if r.Host != host {
			w.refuse(rw, r, http.StatusMisdirectedRequest, "wrong host")
			return
		}
		if r.Method == http.MethodGet && r.URL.Path == "/open" {
			next.ServeHTTP(rw, r) // the secret itself is checked; a link from anywhere may carry it
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			w.refuse(rw, r, http.StatusForbidden, "request from another site")
			return
		}
		if o := r.Header.Get("Origin"); r.Method != http.MethodGet && r.Method != http.MethodHead && o != w.origin {
			w.refuse(rw, r, http.StatusForbidden, "missing or foreign Origin")
			return
		} else if o != "" && o != w.origin {
			w.refuse(rw, r, http.StatusForbidden, "foreign Origin")
			return
		}
		if !w.hasCookie(r) {
			w.refuse(rw, r, http.StatusUnauthorized, "no valid secret")
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *Server) refuse(rw http.ResponseWriter, r *http.Request, code int, why string) {
	w.log.Warn("viewer page refused a request", "method", r.Method, "path", r.URL.Path, "why", why, "from", r.RemoteAddr)
	http.Error(rw, "refused: open the address that assist connect printed or opened", code)
}

func (w *Server) hasCookie(r *http.Request) bool {
	c, err := r.Cookie(w.cookie)
	return err == nil && w.door.admitted(c.Value)
}

// handleOpen trades the one-time ticket in the URL for a cookie and sends the browser to the
// page, so the ticket leaves the address bar at once (it would open nothing now anyway). It
// sends the browser on with a page of its own rather than a redirect: a SameSite=Strict cookie
// is not sent along a redirect chain that started on another site (a link in the help-desk
// screen), while a navigation started by this page is same-site. The admitted browser opening
// the address again goes to its page; any other is refused with a page that says why.
func (w *Server) handleOpen(rw http.ResponseWriter, r *http.Request) {
	if w.hasCookie(r) {
		forward(rw)
		return
	}
	secret, spent, err := w.door.admit(r.URL.Query().Get("t"))
	switch {
	case spent:
		w.log.Warn("viewer page refused a second use of its address", "from", r.RemoteAddr)
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.WriteHeader(http.StatusGone)
		io.WriteString(rw, usedPage)
		return
	case err != nil:
		w.refuse(rw, r, http.StatusUnauthorized, "/open: "+err.Error())
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: w.cookie, Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	forward(rw)
}

// forward sends the browser on to the page.
func forward(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(rw, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/"><title>assist</title><a href="/">Open the viewer</a>`)
}

// usedPage answers a later load of the viewer's address by a browser that was not let in.
const usedPage = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>assist viewer: address already used</title>
<h1>This viewer address was already used</h1>
<p>The address that <code>assist connect</code> printed or opened lets one browser in, once. It was
opened already (in another browser, profile or private window), so it does not open here.</p>
<p>Go back to the browser where the viewer is open. If you closed it, end <code>assist connect</code>
(Ctrl-C) and run it again: it prints a new address.</p>
<p><a href="/">Go to the viewer</a> (works only in the browser that opened it first)</p>
</html>
`
