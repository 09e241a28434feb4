package helpdesk

import (
	"github.com/assistkit/assist/tickets"

	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var staticFiles embed.FS

// maxForm bounds every form body: the largest form is a note's, tickets.MaxNoteLen bytes that
// percent-encoding may triple, with the token.
const maxForm = 8 << 10

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static") // a literal directory of the embed: cannot fail
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	mux.HandleFunc("GET /signin", s.signInPage)
	// The person's page: public, and nothing on it comes from a request.
	mux.HandleFunc("GET /help", s.helpPage)
	mux.HandleFunc("GET /help/{file}", s.helpDownload)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.Handle("POST /signout", s.authed(s.signOut))
	mux.Handle("GET /{$}", s.authed(func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, "/requests", http.StatusSeeOther)
	}))
	mux.Handle("GET /requests", s.authed(s.allowed(tickets.ReadRequests, s.listPage)))
	mux.Handle("GET /requests/events", s.authed(s.allowed(tickets.ReadRequests, s.requestEvents)))
	mux.Handle("GET /requests/{code}", s.authed(s.allowed(tickets.ReadRequests, s.connectPage)))
	mux.Handle("POST /requests/{code}/otc", s.authed(s.allowed(tickets.Connect, s.openConnection)))
	mux.Handle("POST /requests/{code}/close", s.authed(s.allowed(tickets.WorkRequests, s.closeRequest)))
	mux.Handle("POST /requests/{code}/claim", s.authed(s.allowed(tickets.WorkRequests, s.claimRequest)))
	mux.Handle("POST /requests/{code}/release", s.authed(s.allowed(tickets.WorkRequests, s.releaseRequest)))
	mux.Handle("POST /requests/{code}/notes", s.authed(s.allowed(tickets.WorkRequests, s.addNote)))
	mux.Handle("GET /download", s.authed(s.downloadPage))
	mux.Handle("GET /download/{file}", s.authed(s.downloadFile))
	// Everything else needs a session too, so that not even a 404 answers a stranger.
	mux.Handle("/", s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such page.")
	}))
	// CrossOriginProtection refuses a cross-site POST from a browser before it reaches the
	// handlers; the CSRF token on every form is the check that does not depend on headers.
	return s.secureHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// secureHeaders sets what every response carries: nothing from elsewhere may run, frame, or be
// sniffed, and no page leaks its address to another site.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.cfg.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// cacheFor lets browsers keep the embedded assets briefly; they change only with the binary.
func cacheFor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		next.ServeHTTP(w, r)
	})
}
