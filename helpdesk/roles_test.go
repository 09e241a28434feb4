package helpdesk_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistkit/assist/tickets"
)

// TestWebRoles: on the web screens an auditor reads the requests but gets no Open Connection
// or Close button, and posting those forms anyway is refused with the role named; a
// technician's are served.
func TestWebRoles(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	d.addTech(t, "audrey")
	if _, err := d.Store.UpdateUser("audrey", func(u *tickets.User) error { u.Role = tickets.RoleAuditor; return nil }); err != nil {
		t.Fatal(err)
	}
	req := d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Pat Person", Computer: "pc"}})

	aud := d.client(t)
	aud.signIn("audrey")
	if res := aud.get("/requests"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, req.Code) {
		t.Fatalf("auditor's request list: %s, code %s missing", res.Status, req.Code)
	}
	page := aud.get("/requests/" + req.Code).Body
	if strings.Contains(page, `id="open-connection"`) || strings.Contains(page, `id="close-request"`) || !strings.Contains(page, `id="no-connect"`) ||
		strings.Contains(page, `id="claim-request"`) || strings.Contains(page, `id="add-note"`) {
		t.Fatalf("auditor's connect screen offers what the role may not do:\n%s", page)
	}
	csrf := aud.csrf("/requests")
	if list := aud.get("/requests").Body; strings.Contains(list, `class="claim"`) {
		t.Errorf("auditor's list offers Claim")
	}
	for _, path := range []string{"/requests/" + req.Code + "/otc", "/requests/" + req.Code + "/close", "/requests/" + req.Code + "/claim",
		"/requests/" + req.Code + "/release", "/requests/" + req.Code + "/notes"} {
		res := aud.post(path, url.Values{"csrf": {csrf}, "text": {"a note"}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "role (auditor)") {
			t.Errorf("auditor POST %s: %s, want 403 naming the role:\n%s", path, res.Status, res.Body)
		}
	}
	if creds, _ := d.Store.CredentialsForRequest(req.ID); len(creds) != 0 {
		t.Fatalf("an auditor's post minted %d credential(s)", len(creds))
	}
	assertUntouched(t, d, req.Code)

	alice := d.client(t)
	alice.signIn("alice")
	if page := alice.get("/requests/" + req.Code).Body; !strings.Contains(page, `id="open-connection"`) {
		t.Fatalf("technician's connect screen lacks Open Connection")
	}
	if res := alice.post("/requests/"+req.Code+"/otc", url.Values{"csrf": {alice.csrf("/requests")}}); res.StatusCode != http.StatusOK {
		t.Fatalf("technician's Open Connection: %s", res.Status)
	}
}

// TestWebClaimedRequest: a request bob claimed shows alice who has it instead of Open
// Connection, and her posts (Open Connection, Claim, Release) are refused naming bob and
// audited; an admin's account opens, claims and releases it.
func TestWebClaimedRequest(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	d.addTech(t, "bob")
	d.addTech(t, "root")
	if _, err := d.Store.UpdateUser("root", func(u *tickets.User) error { u.Role = tickets.RoleAdmin; return nil }); err != nil {
		t.Fatal(err)
	}
	req := d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Pat Person"}})
	handOver(t, d, req.Code, "bob", "bob")

	alice := d.client(t)
	alice.signIn("alice")
	page := alice.get("/requests/" + req.Code).Body
	if strings.Contains(page, `id="open-connection"`) || !strings.Contains(page, `id="claimed-by"`) || !strings.Contains(page, "<strong>bob</strong>") {
		t.Fatalf("alice's screen of bob's request:\n%s", page)
	}
	for _, path := range []string{"/otc", "/claim", "/release"} {
		res := alice.post("/requests/"+req.Code+path, url.Values{"csrf": {alice.csrf("/requests")}})
		want := "Request " + req.Code + " is claimed by bob. Ask bob or an admin to hand it over to you."
		if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, want) {
			t.Errorf("alice POST %s: %s, want 409 with %q", path, res.Status, want)
		}
	}
	refused := auditKinds(t, d.Store, "refused")
	if len(refused) != 3 || refused[0].Attrs["what"] != "request otc" || refused[0].Attrs["owner"] != "bob" || refused[0].Actor != "alice" {
		t.Errorf("refusals audited: %+v", refused)
	}
	if creds, _ := d.Store.CredentialsForRequest(req.ID); len(creds) != 0 {
		t.Fatalf("alice's post minted %d credential(s) for bob's request", len(creds))
	}

	root := d.client(t)
	root.signIn("root")
	page = root.get("/requests/" + req.Code).Body
	for _, id := range []string{`id="open-connection"`, `id="claim-request"`, `id="release-request"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the admin's screen of bob's request lacks %s", id)
		}
	}
	if res := root.post("/requests/"+req.Code+"/otc", url.Values{"csrf": {root.csrf("/requests")}}); res.StatusCode != http.StatusOK {
		t.Errorf("the admin's Open Connection: %s", res.Status)
	}
	if res := root.post("/requests/"+req.Code+"/claim", url.Values{"csrf": {root.csrf("/requests")}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin's Claim: %s", res.Status)
	}
	if r, _ := d.Store.Request(req.Code); r.Owner != "root" {
		t.Errorf("after the admin's Claim the owner is %q", r.Owner)
	}
}
