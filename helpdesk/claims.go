package helpdesk

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/assistkit/assist/tickets"
)

// The help desk's side of claims and notes: a Claim button on each unclaimed row of the list
// and on the connect screen, Release for the owner (or an admin), and the connect screen's
// notes box. The store decides who may (tickets.HandOver); these handlers say what happened.

// noteView is a note as the connect screen lists it; its text stays a string that html/template
// escapes.
type noteView struct {
	Time timeView
	By   string
	Text string
}

func notesView(notes []tickets.Note) []noteView {
	out := make([]noteView, 0, len(notes))
	for _, n := range notes {
		out = append(out, noteView{Time: newTimeView(n.Time), By: n.By, Text: n.Text})
	}
	return out
}

// claimRequest makes the request the signed-in technician's and goes back where the form was.
func (s *Server) claimRequest(w http.ResponseWriter, r *http.Request, sess *session) {
	s.handOver(w, r, sess, sess.user, "Claimed request %s (%s): it is yours.")
}

// releaseRequest lets the request go back to the queue.
func (s *Server) releaseRequest(w http.ResponseWriter, r *http.Request, sess *session) {
	s.handOver(w, r, sess, "", "Released request %s (%s): nobody owns it now.")
}

func (s *Server) handOver(w http.ResponseWriter, r *http.Request, sess *session, to, done string) {
	req, ok := s.lookup(w, r, sess)
	if !ok {
		return
	}
	handed, err := s.cfg.Gateway.HandOver(tickets.Handover{CodeOrID: req.Code, By: sess.user, To: to})
	if s.claimed(w, r, sess, err) {
		return
	}
	if err != nil {
		s.fail(w, r, sess, http.StatusConflict, "The request could not be handed over: "+err.Error())
		return
	}
	s.log.Info("request handed over from the web", "user", sess.user, "request", req.Code, "owner", handed.Request.Owner)
	s.sessions.setFlash(sess.id, fmt.Sprintf(done, req.Code, req.FullName))
	http.Redirect(w, r, back(r, req.Code), http.StatusSeeOther)
}

// addNote keeps the notes box's text with the request.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request, sess *session) {
	req, ok := s.lookup(w, r, sess)
	if !ok {
		return
	}
	_, err := s.cfg.Gateway.AddNote(tickets.Noting{CodeOrID: req.Code, By: sess.user, Text: r.PostFormValue("text")})
	if err != nil {
		s.fail(w, r, sess, http.StatusBadRequest, "The note was not kept: "+strings.TrimPrefix(err.Error(), "note: ")+".")
		return
	}
	s.sessions.setFlash(sess.id, "Note added to request "+req.Code+".")
	http.Redirect(w, r, "/requests/"+req.Code+"#notes", http.StatusSeeOther)
}

// claimed answers a refusal because another technician owns the request (409, naming them)
// and reports whether err was one.
func (s *Server) claimed(w http.ResponseWriter, r *http.Request, sess *session, err error) bool {
	var ce *tickets.ClaimedError
	if !errors.As(err, &ce) {
		return false
	}
	s.fail(w, r, sess, http.StatusConflict, fmt.Sprintf("Request %s is claimed by %s. Ask %s or an admin to hand it over to you.", ce.Code, ce.Owner, ce.Owner))
	return true
}

// back is where a claim or release form returns: the list it was posted from (its "back"
// field, kept on this site), or the request's connect screen.
func back(r *http.Request, code string) string {
	if b := r.PostFormValue("back"); strings.HasPrefix(b, "/requests") {
		return safeNext(b)
	}
	return "/requests/" + code
}
