package viewer

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
)

// newToken returns 256 random bits, URL-safe.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("viewer page: secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (w *Web) tokenOK(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(w.token)) == 1
}

// guard checks every request before any handler sees it:
//   - Host must be our own 127.0.0.1:PORT, so a DNS-rebound name cannot reach the page;
//   - the secret cookie must be present (except on /open, which checks the secret itself);
//   - a POST (input, the screen stream, uploads, ending the session) must carry our Origin, so
//     another site open in the same browser cannot drive the person's desktop;
//   - a GET that says it comes from another site is refused as well.
//
// And every answer forbids framing, sniffing, caching and anything but our own scripts.
func (w *Web) guard(next http.Handler) http.Handler {
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
		c, err := r.Cookie(w.cookie)
		if err != nil || !w.tokenOK(c.Value) {
			w.refuse(rw, r, http.StatusUnauthorized, "no valid secret")
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *Web) refuse(rw http.ResponseWriter, r *http.Request, code int, why string) {
	w.log.Warn("viewer page refused a request", "method", r.Method, "path", r.URL.Path, "why", why, "from", r.RemoteAddr)
	http.Error(rw, "refused: open the address that assist connect printed or opened", code)
}

// handleOpen trades the secret in the URL for a cookie and sends the browser to the page,
// so the secret leaves the address bar (and anything that copies it) at once. It sends the
// browser on with a page of its own rather than a redirect: a SameSite=Strict cookie is not sent
// along a redirect chain that started on another site (a link in the help-desk screen), while a
// navigation started by this page is same-site.
func (w *Web) handleOpen(rw http.ResponseWriter, r *http.Request) {
	if !w.tokenOK(r.URL.Query().Get("t")) {
		w.refuse(rw, r, http.StatusUnauthorized, "wrong secret in /open")
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: w.cookie, Value: w.token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(rw, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/"><title>assist</title><a href="/">Open the viewer</a>`)
}
