package helpdesk

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/assistkit/assist/tickets"
)

// Cookie names. With TLS the __Host- prefix makes the browser refuse a cookie that was not set
// Secure, for this exact host, on path / — so a neighbouring subdomain cannot plant one.
func (s *Server) sessionCookie() string { return s.cookieName("assist-session") }
func (s *Server) signInCookie() string  { return s.cookieName("assist-signin") }

func (s *Server) cookieName(base string) string {
	if s.cfg.Secure {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: s.cfg.Secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// handlerFunc is a page that needs a signed-in technician.
type handlerFunc func(w http.ResponseWriter, r *http.Request, sess *session)

// authed lets a request through only with a live session; a POST must also carry the session's
// CSRF token. A browser without a session is sent to sign in (GET) or refused (anything else).
func (s *Server) authed(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.currentSession(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if r.Method == http.MethodPost && !s.csrfOK(w, r, &sess) {
			return
		}
		h(w, r, &sess)
	})
}

// currentSession finds the request's session and checks that its account still exists with the
// password it signed in with: removing an account or changing its password signs it out.
func (s *Server) currentSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(s.sessionCookie())
	if err != nil {
		return session{}, false
	}
	sess, ok := s.sessions.get(c.Value)
	if !ok {
		return session{}, false
	}
	u, err := s.cfg.Store.User(sess.user)
	if err != nil || u.PasswordHash == "" || sha256.Sum256([]byte(u.PasswordHash)) != sess.pwhash {
		s.sessions.delete(sess.id)
		return session{}, false
	}
	sess.role = u.AccountRole()
	return sess, true
}

// allowed lets only accounts whose role allows a reach h; others get a page that says why.
func (s *Server) allowed(a tickets.Action, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !sess.role.May(a) {
			s.log.Info("web action refused", "user", sess.user, "role", sess.role, "path", r.URL.Path, "needs", a)
			s.fail(w, r, sess, http.StatusForbidden, fmt.Sprintf("Your account's role (%s) does not let you %s.", sess.role, a))
			return
		}
		h(w, r, sess)
	}
}

func (s *Server) csrfOK(w http.ResponseWriter, r *http.Request, sess *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if tokensEqual(r.PostFormValue("csrf"), sess.csrf) {
		return true
	}
	s.log.Warn("web form refused: missing or wrong CSRF token", "user", sess.user, "remote", s.peer(r).Addr().String(), "path", r.URL.Path)
	s.fail(w, r, sess, http.StatusForbidden, "This form was stale or did not come from this page, so nothing was done. Reload the page and try again.")
	return false
}

// signInPage shows the sign-in form; a browser that is signed in already goes on.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.currentSession(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderSignIn(w, r, http.StatusOK, "", "")
}

// renderSignIn shows the form with a fresh sign-in token. Before sign-in there is no session, so
// the form is protected by a double-submit token: a SameSite=Strict cookie that another site can
// neither read nor set, repeated in the form.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, user, problem string) {
	token := randomToken()
	s.setCookie(w, s.signInCookie(), token, 3600)
	s.render(w, status, "signin", pageData{Title: "Sign in", CSRF: token, Problem: problem, Data: signInView{
		User: user, Next: safeNext(r.URL.Query().Get("next")), SSH: sshCommand(s.reached(r)),
	}})
}

type signInView struct {
	User string
	Next string
	SSH  string // how to reach the gateway with OpenSSH: "ssh -p 2222 you@HOST", from the real address
}

// sshCommand is the ssh command line, up to the user name's "you@", that reaches addr.
func sshCommand(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		host, port = "gateway", "2222"
	}
	if port == "22" {
		return "ssh you@" + host
	}
	return "ssh -p " + port + " you@" + host
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.renderSignIn(w, r, http.StatusBadRequest, "", "The form could not be read. Try again.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	c, err := r.Cookie(s.signInCookie())
	if err != nil || !tokensEqual(r.PostFormValue("csrf"), c.Value) {
		s.log.Warn("web sign-in form refused: missing or wrong CSRF token", "remote", s.peer(r).Addr().String())
		s.renderSignIn(w, r, http.StatusForbidden, name, "The sign-in form had expired. Sign in again.")
		return
	}
	user, ok := s.authenticate(w, r, name, r.PostFormValue("password"))
	if !ok {
		return
	}
	sess := s.sessions.create(user.Name, user.PasswordHash)
	s.setCookie(w, s.sessionCookie(), sess.id, 0)
	s.setCookie(w, s.signInCookie(), "", -1)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// authenticate checks a password under the throttles, logs and audits the outcome (an auth-log
// line too, for fail2ban), and on failure answers the browser itself.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, name, password string) (tickets.User, bool) {
	from := s.peer(r)
	addr := net.TCPAddrFromAddrPort(from)
	ip, keyAddr, keyAccount := from.Addr().String(), addrKey(from.Addr()), accountKey(name, from.Addr())
	shown := logName(name)
	for _, t := range []struct {
		th  *throttle
		key string
	}{{s.byAddr, keyAddr}, {s.byAccount, keyAccount}} {
		if d, first := t.th.wait(t.key); d > 0 {
			s.refuseThrottled(w, r, shown, addr, d, first)
			return tickets.User{}, false
		}
	}
	user, reason, err := s.checkPassword(r, name, password)
	if err != nil {
		s.log.Error("web sign-in", "user", shown, "remote", ip, "err", err)
		s.fail(w, r, nil, http.StatusServiceUnavailable, "Sign-in is not possible right now. Try again in a moment.")
		return tickets.User{}, false
	}
	if reason != "" {
		wait := max(s.byAddr.fail(keyAddr), s.byAccount.fail(keyAccount))
		s.authFailed(shown, addr, reason, wait)
		problem := "Wrong user name or password."
		if wait > 0 {
			problem += " Too many failed attempts: wait " + humanWait(wait) + " before the next one."
		}
		s.renderSignIn(w, r, http.StatusUnauthorized, shown, problem)
		return tickets.User{}, false
	}
	s.byAddr.succeed(keyAddr)
	s.byAccount.succeed(keyAccount)
	s.log.Info("web sign-in accepted", "user", user.Name, "remote", ip)
	s.cfg.AuthLog.WebAccepted(user.Name, addr)
	s.audit(tickets.Event{Kind: "web.auth.accepted", Actor: user.Name, Remote: ip})
	return user, true
}

// reasonInvalidUser is why a sign-in failed for a name that is no account.
const reasonInvalidUser = "invalid user"

// checkPassword returns the account, or why the password was not accepted. Unknown accounts and
// accounts without a password cost the same argon2id work as a wrong password, so the answer's
// timing does not tell which names exist.
func (s *Server) checkPassword(r *http.Request, name, password string) (tickets.User, string, error) {
	select {
	case s.checks <- struct{}{}:
		defer func() { <-s.checks }()
	case <-r.Context().Done():
		return tickets.User{}, "", r.Context().Err()
	}
	if name == "" || len(name) > 64 {
		s.decoy.check(password)
		return tickets.User{}, reasonInvalidUser, nil
	}
	u, err := s.cfg.Store.User(name)
	switch {
	case errors.Is(err, tickets.ErrNotFound):
		s.decoy.check(password)
		return tickets.User{}, reasonInvalidUser, nil
	case err != nil:
		return tickets.User{}, "", fmt.Errorf("look up account: %w", err)
	case u.PasswordHash == "":
		s.decoy.check(password)
		return tickets.User{}, "no web password set", nil
	case !tickets.CheckPassword(u.PasswordHash, password):
		return tickets.User{}, "wrong password", nil
	}
	return u, "", nil
}

func (s *Server) refuseThrottled(w http.ResponseWriter, r *http.Request, name string, addr *net.TCPAddr, d time.Duration, first bool) {
	ip := addr.IP.String()
	s.log.Warn("web sign-in failed", "user", name, "remote", ip, "reason", "throttled", "retry_in", d.Round(time.Second).String())
	// Audited and in the auth log once per wait: every refused attempt is in the log, but a flood
	// of them must not grow the audit trail by one durable write each, nor the auth log by a line.
	if first {
		s.cfg.AuthLog.WebThrottled(name, addr)
		s.audit(tickets.Event{Kind: "web.auth.failed", Actor: name, Remote: ip, Attrs: map[string]string{"reason": "throttled"}})
	}
	w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(d.Seconds()))))
	s.renderSignIn(w, r, http.StatusTooManyRequests, name, "Too many failed attempts. Wait "+humanWait(d)+", then try again.")
}

func (s *Server) authFailed(name string, addr *net.TCPAddr, reason string, wait time.Duration) {
	ip := addr.IP.String()
	s.log.Warn("web sign-in failed", "user", name, "remote", ip, "reason", reason, "retry_in", wait.String())
	s.cfg.AuthLog.WebFailed(name, reason == reasonInvalidUser, addr)
	s.audit(tickets.Event{Kind: "web.auth.failed", Actor: name, Remote: ip, Attrs: map[string]string{"reason": reason}})
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, sess *session) {
	s.sessions.delete(sess.id)
	s.setCookie(w, s.sessionCookie(), "", -1)
	s.log.Info("web sign-out", "user", sess.user, "remote", s.peer(r).Addr().String())
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *Server) audit(e tickets.Event) {
	if _, err := s.cfg.Store.AppendEvent(e); err != nil {
		s.log.Error("audit", "kind", e.Kind, "err", err)
	}
}

// safeNext keeps a post-sign-in redirect on this site: a path, never a scheme or another host.
// Browsers drop tabs and newlines from URLs and read \ as /, so "/\t/evil" or "/\\evil" would
// become "//evil", another host: any control character or backslash is refused.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/signin") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/requests"
	}
	return next
}

func humanWait(d time.Duration) string {
	n, unit := int(math.Ceil(d.Seconds())), "second"
	if d > time.Minute {
		n, unit = int(math.Ceil(d.Minutes())), "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

// decoyHash is a hash of a random password, made on first use, checked against when there is no
// real hash so that every failed sign-in costs the same.
type decoyHash struct {
	once sync.Once
	hash string
}

func (d *decoyHash) check(password string) {
	d.once.Do(func() { d.hash, _ = tickets.HashPassword(randomToken()) })
	tickets.CheckPassword(d.hash, password)
}

// logName is a typed account name as logs and the audit trail record it: at most 64 bytes, so a
// stranger cannot fill them with one long name (no account name is longer).
func logName(name string) string {
	if len(name) <= 64 {
		return name
	}
	return strings.ToValidUTF8(name[:64], "") + "…"
}
