package helpdesk

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed templates
var templateFiles embed.FS

// pageNames are the pages; each is templates/NAME.html inside templates/layout.html.
var pageNames = []string{"signin", "requests", "connect", "download", "error", "help"}

type pages struct {
	t map[string]*template.Template
}

func parsePages() (*pages, error) {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(pageFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("helpdesk: parse page %s: %w", name, err)
		}
		p.t[name] = t
	}
	return p, nil
}

// pageFuncs are the templates' helpers.
var pageFuncs = template.FuncMap{
	// stateLabel names a request list filter (listStates) for its menu.
	"stateLabel": func(state string) string {
		return map[string]string{"open": "Open", "online": "Online", "offline": "Offline", "session": "In session",
			"closed": "Closed", "all": "All, closed too"}[state]
	},
}

// pageData is what the layout needs; Data is the page's own view.
type pageData struct {
	Title   string
	User    string // the signed-in technician; empty on the sign-in page
	CSRF    string // the token every form on the page carries
	Flash   string // a message left by the previous action
	Problem string // what went wrong, shown prominently
	Nav     string // the active navigation entry
	Live    bool   // the page refreshes its #live element every 10 s
	Public  bool   // for the person, not the help desk: no link into the technicians' pages
	Data    any
}

// render executes a page into a buffer first, so a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, d pageData) {
	var b bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&b, "layout", d); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// page fills the layout's fields for a signed-in technician.
func (s *Server) page(sess *session, title, nav string, data any) pageData {
	return pageData{Title: title, User: sess.user, CSRF: sess.csrf, Flash: s.sessions.takeFlash(sess.id), Nav: nav, Data: data}
}

// fail shows an error page; sess may be nil.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, sess *session, status int, msg string) {
	d := pageData{Title: http.StatusText(status), Problem: msg}
	if sess != nil {
		d.User, d.CSRF = sess.user, sess.csrf
	}
	s.render(w, status, "error", d)
}
