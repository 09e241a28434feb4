package helpdesk

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/assistkit/assist/tickets"
)

// requestView is a request as the pages show it. Everything a person typed stays a string that
// html/template escapes; nothing here is marked safe.
type requestView struct {
	tickets.Form
	Code, RemoteAddr     string
	Created              timeView
	Online, Open, Active bool
	ScreenOff            bool // the agent said it cannot share the screen (Form.Screen says why)
	ClosedBy             string
	Closed               timeView
	Summary              string // the message's first line, shortened, for the list
	With                 string // the technician in session, when Active
	Owner                string // the technician who claimed it; empty: nobody
}

// timeView is a time in UTC for the <time datetime> attribute, and a UTC fallback text that the
// page's script replaces with the technician's local time.
type timeView struct {
	ISO, UTC string
}

func newTimeView(t time.Time) timeView {
	if t.IsZero() {
		return timeView{}
	}
	t = t.UTC()
	return timeView{ISO: t.Format(time.RFC3339), UTC: t.Format("2006-01-02 15:04 UTC")}
}

func (s *Server) view(r tickets.Request) requestView {
	v := requestView{
		Form: r.Form, Code: r.Code, RemoteAddr: r.RemoteAddr,
		Created: newTimeView(r.Created), Online: r.Open() && s.cfg.Gateway.Online(r.ID), Open: r.Open(),
		Active: r.State == tickets.StateActive, ClosedBy: r.ClosedBy, Closed: newTimeView(r.Closed),
		Summary:   summary(r.Message, 80),
		ScreenOff: strings.HasPrefix(r.Screen, tickets.ScreenUnavailable("")),
		Owner:     r.Owner,
	}
	if v.Active {
		v.With = s.technicianInSession(r)
	}
	return v
}

// summary is the first line of a message, at most n runes.
func summary(msg string, n int) string {
	line, _, more := strings.Cut(strings.TrimSpace(msg), "\n")
	line = strings.TrimSpace(line)
	if r := []rune(line); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	if more {
		return line + " …"
	}
	return line
}

// listPage is the request list: searched, filtered, sorted and paged on the server, from the
// URL's query (see listQuery), so a list can be bookmarked and refreshes as it is.
func (s *Server) listPage(w http.ResponseWriter, r *http.Request, sess *session) {
	q := parseListQuery(r.URL.Query())
	page, err := s.cfg.Store.Requests(tickets.RequestQuery{Closed: q.closed()})
	if err != nil {
		s.log.Error("list requests", "err", err)
		s.fail(w, r, sess, http.StatusInternalServerError, "The requests could not be read.")
		return
	}
	for _, sk := range page.Skipped {
		s.log.Warn("request list: damaged record skipped; run assistd check", "record", sk.Key, "err", sk.Reason)
	}
	views := make([]requestView, 0, len(page.Requests))
	for _, req := range page.Requests {
		views = append(views, s.view(req))
	}
	list := q.page(views)
	list.CanWork = sess.role.May(tickets.WorkRequests)
	d := pageData{Title: "Assistance requests", User: sess.user, CSRF: sess.csrf, Nav: "requests", Data: list, Live: true}
	// The page's own refresh leaves a flash to the page the technician is going to: a form
	// posted while an event made the old page refresh would lose its message otherwise.
	if r.Header.Get(liveHeader) == "" {
		d.Flash = s.sessions.takeFlash(sess.id)
	}
	s.render(w, http.StatusOK, "requests", d)
}

// liveHeader marks the list page's own refresh (app.js).
const liveHeader = "X-Assist-Live"

// lookup finds the request named in the path, answering 404 itself.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, sess *session) (tickets.Request, bool) {
	code := r.PathValue("code")
	if _, err := tickets.NormalizeCode(code); err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "There is no request with that code.")
		return tickets.Request{}, false
	}
	req, err := s.cfg.Store.Request(code)
	if errors.Is(err, tickets.ErrNotFound) {
		s.fail(w, r, sess, http.StatusNotFound, "There is no request with that code.")
		return tickets.Request{}, false
	}
	if err != nil {
		s.log.Error("read request", "code", code, "err", err)
		s.fail(w, r, sess, http.StatusInternalServerError, "The request could not be read.")
		return tickets.Request{}, false
	}
	return req, true
}

type connectView struct {
	R     requestView
	TTL   string
	Notes []noteView
	// What the signed-in account's role allows on this screen; CanOverride: past another's claim
	// (an admin).
	CanConnect, CanWork, CanOverride bool
	MaxNote                          int
	// Recordings of the request's sessions, when the role may read them (ShowRecordings).
	Recordings     []recordingView
	ShowRecordings bool
}

// connectPage is the Assistance Request Connect screen.
func (s *Server) connectPage(w http.ResponseWriter, r *http.Request, sess *session) {
	req, ok := s.lookup(w, r, sess)
	if !ok {
		return
	}
	title := "Assistance Request Connect — " + req.FullName
	recs, showRecs := s.requestRecordings(sess, req.Code)
	s.render(w, http.StatusOK, "connect", s.page(sess, title, "requests", connectView{R: s.view(req), TTL: ttlText(s.cfg.OTCTTL),
		Notes: notesView(req.Notes), CanConnect: sess.role.May(tickets.Connect), CanWork: sess.role.May(tickets.WorkRequests),
		CanOverride: sess.role == tickets.RoleAdmin, MaxNote: tickets.MaxNoteLen, Recordings: recs, ShowRecordings: showRecs}))
}

func ttlText(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

// openConnection issues a one-time connection file for the signed-in technician and sends it as
// a download, CODE.otc, which the Remote Connect Software opens.
func (s *Server) openConnection(w http.ResponseWriter, r *http.Request, sess *session) {
	req, ok := s.lookup(w, r, sess)
	if !ok {
		return
	}
	if !req.Open() {
		s.fail(w, r, sess, http.StatusConflict, fmt.Sprintf("Request %s is closed; it cannot be opened any more.", req.Code))
		return
	}
	otc, cred, err := s.cfg.Gateway.IssueOTC(req.Code, sess.user, s.cfg.OTCTTL, s.reached(r))
	if s.claimed(w, r, sess, err) {
		return
	}
	if err != nil {
		s.log.Error("issue otc from the web", "user", sess.user, "request", req.Code, "err", err)
		s.fail(w, r, sess, http.StatusInternalServerError, "The connection file could not be made: "+err.Error())
		return
	}
	s.log.Info("otc downloaded from the web", "user", sess.user, "request", req.Code, "credential", cred.ID, "remote", s.peer(r).Addr().String())
	h := w.Header()
	h.Set("Content-Type", "application/x-assist-otc")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%s.otc", otc.Request))
	h.Set("Cache-Control", "no-store")
	w.Write(otc.Marshal())
}

// reached is the SSH address to write into an .otc when the gateway advertises none: the SSH
// listener's own address, or, when it listens on every interface, the local address this very
// browser connection arrived on with the SSH port — an address the technician demonstrably
// reaches, unlike the Host header, which the browser (or a rebinding attacker) chooses.
func (s *Server) reached(r *http.Request) string {
	host, port, err := net.SplitHostPort(s.cfg.SSHAddr)
	if err != nil {
		return s.cfg.SSHAddr
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return s.cfg.SSHAddr
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if lhost, _, err := net.SplitHostPort(la.String()); err == nil {
			return net.JoinHostPort(lhost, port)
		}
	}
	return s.cfg.SSHAddr
}

func (s *Server) closeRequest(w http.ResponseWriter, r *http.Request, sess *session) {
	req, ok := s.lookup(w, r, sess)
	if !ok {
		return
	}
	closed, err := s.cfg.Gateway.CloseRequest(req.Code, sess.user)
	if err != nil {
		s.fail(w, r, sess, http.StatusConflict, "The request could not be closed: "+err.Error())
		return
	}
	s.log.Info("request closed from the web", "user", sess.user, "request", closed.Code)
	s.sessions.setFlash(sess.id, fmt.Sprintf("Closed request %s (%s).", closed.Code, closed.FullName))
	http.Redirect(w, r, "/requests", http.StatusSeeOther)
}
