package helpdesk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/helpdesk"
	"github.com/assistkit/assist/tickets"
)

// listedRecordings is the gateway's recordings as a test has them.
type listedRecordings map[string][]helpdesk.Recording

func (l listedRecordings) RequestRecordings(code string) ([]helpdesk.Recording, error) {
	return l[code], nil
}

// TestWebRecordingsForReaders: a request's connect screen lists its recordings, with their
// status and the command that plays each, to admins and auditors; a technician sees none.
func TestWebRecordingsForReaders(t *testing.T) {
	recs := listedRecordings{}
	d := startDesk(t, deskOptions{Recordings: recs})
	for name, role := range map[string]tickets.Role{"ada": tickets.RoleAdmin, "audrey": tickets.RoleAuditor, "alice": tickets.RoleTechnician} {
		d.addTech(t, name)
		if _, err := d.Store.UpdateUser(name, func(u *tickets.User) error { u.Role = role; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	req := d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Pat Person", Computer: "pc"}})
	other := d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Sam Other", Computer: "pc2"}})
	started := time.Date(2026, 11, 24, 2, 3, 0, 0, time.UTC)
	recs[req.Code] = []helpdesk.Recording{
		{ID: "18ed44d1c4129b0bbd276de3", Technician: "bob", Started: started, Duration: "12m4s", Bytes: 4812237, Status: "ok"},
		{ID: "18ed44d1c4129b0bbd276de4", Technician: "bob", Started: started.Add(-time.Hour), Status: "MISSING"},
	}
	for _, name := range []string{"ada", "audrey"} {
		c := d.client(t)
		c.signIn(name)
		page := c.get("/requests/" + req.Code).Body
		if !strings.Contains(page, `id="recordings"`) || !strings.Contains(page, `<code class="play">assist recording play 18ed44d1c4129b0bbd276de3</code>`) ||
			!strings.Contains(page, "12m4s") || !strings.Contains(page, `<td class="status">MISSING</td>`) ||
			!strings.Contains(page, `<code id="play-all">assist recording play --request `+req.Code+`</code>`) {
			t.Fatalf("%s's connect screen does not list the request's recordings:\n%s", name, page)
		}
		if strings.Contains(page, "assist recording play 18ed44d1c4129b0bbd276de4") {
			t.Errorf("%s is offered to play a recording whose file is missing", name)
		}
		if page := c.get("/requests/" + other.Code).Body; !strings.Contains(page, `id="no-recordings"`) {
			t.Errorf("%s's screen of a request never recorded does not say so", name)
		}
	}
	alice := d.client(t)
	alice.signIn("alice")
	if page := alice.get("/requests/" + req.Code).Body; strings.Contains(page, `id="recordings"`) || strings.Contains(page, "18ed44d1c4129b0bbd276de3") {
		t.Fatalf("a technician's connect screen shows recordings:\n%s", page)
	}
}
