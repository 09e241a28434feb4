package helpdesk

import (
	"github.com/assistkit/assist/tickets"

	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser. Its ID is the cookie; its CSRF token goes in every form.
type session struct {
	id      string
	user    string
	role    tickets.Role // the account's, read afresh for every request (currentSession)
	csrf    string
	pwhash  [32]byte // of the password hash at sign-in: a password change ends the session
	created time.Time
	seen    time.Time
	flash   string
}

// sessions lives in memory: a gateway restart signs everyone out, which costs a sign-in and
// keeps no session secret on disk.
type sessions struct {
	mu        sync.Mutex
	m         map[string]*session
	now       func() time.Time
	idle, max time.Duration
}

func newSessions(now func() time.Time, idle, max time.Duration) *sessions {
	return &sessions{m: map[string]*session{}, now: now, idle: idle, max: max}
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for user; a new ID at every sign-in rules out session fixation.
func (ss *sessions) create(user, passwordHash string) session {
	now := ss.now()
	s := &session{id: randomToken(), user: user, csrf: randomToken(), pwhash: sha256.Sum256([]byte(passwordHash)), created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweep(now)
	ss.m[s.id] = s
	return *s
}

// get returns the live session with id and marks it used.
func (ss *sessions) get(id string) (session, bool) {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok {
		return session{}, false
	}
	if ss.expired(s, now) {
		delete(ss.m, id)
		return session{}, false
	}
	s.seen = now
	return *s, true
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) > ss.idle || now.Sub(s.created) > ss.max
}

// sweep drops expired sessions; called with mu held at each sign-in, so the map never holds
// more than the sessions of one idle period.
func (ss *sessions) sweep(now time.Time) {
	for id, s := range ss.m {
		if ss.expired(s, now) {
			delete(ss.m, id)
		}
	}
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// setFlash leaves a one-line message for the session's next page.
func (ss *sessions) setFlash(id, msg string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.m[id]; ok {
		s.flash = msg
	}
}

// takeFlash returns and clears the session's message.
func (ss *sessions) takeFlash(id string) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok {
		return ""
	}
	msg := s.flash
	s.flash = ""
	return msg
}

// tokensEqual compares secrets in constant time.
func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
