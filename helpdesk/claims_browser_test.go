package helpdesk_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/assistkit/assist/tickets"
)

// TestBrowserClaimAndNotes: the list shows each request's owner and a Claim button on the
// unclaimed ones; pressing it makes the request the technician's; a hand-over elsewhere shows
// in the open list without a reload; the connect screen names the owner, keeps Open Connection
// from a technician whose request it is not, and its notes box adds a note that reads back as
// the text typed, markup and line breaks included.
func TestBrowserClaimAndNotes(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	d.addTech(t, "bob")
	one := d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Pat One", Computer: "PC-1"}})
	two := d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Pat Two", Computer: "PC-2"}})
	handOver(t, d, two.Code, "bob", "bob")
	ctx := newBrowser(t)
	signInBrowser(t, ctx, d, "/requests")

	row := func(code string) string { return `tr:has(a[href="/requests/` + code + `"])` }
	if got := text(t, ctx, row(two.Code)+" td.owner"); got != "bob" {
		t.Errorf("Pat Two's owner cell reads %q, want bob", got)
	}
	if got := text(t, ctx, row(one.Code)+" td.owner button.claim"); got != "Claim" {
		t.Fatalf("Pat One's row has no Claim button: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row(one.Code)+" button.claim"))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the list to show alice as Pat One's owner",
		`(document.querySelector(`+jsString(row(one.Code)+" td.owner")+`) || {innerText: ''}).innerText.trim() === 'alice (you)'`)
	if got := text(t, ctx, ".flash"); got != "Claimed request "+one.Code+" (Pat One): it is yours." {
		t.Errorf("flash after Claim: %q", got)
	}
	if r, _ := d.Store.Request(one.Code); r.Owner != "alice" {
		t.Errorf("after Claim the store's owner is %q", r.Owner)
	}

	// bob lets his go elsewhere: the open list follows without reloading.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notMarkedByReload = true; true`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.events === 'open'`)); err != nil {
		t.Fatalf("the page opened no event stream: %v", err)
	}
	handOver(t, d, two.Code, "bob", "")
	waitPage(t, ctx, "Pat Two's row to offer Claim", `document.querySelector(`+jsString(row(two.Code)+" button.claim")+`) !== null`)
	if same, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notMarkedByReload === true`)); !same {
		t.Error("the page was reloaded")
	}

	// The connect screen of alice's request: owner, Release, and the notes box.
	if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/requests/"+one.Code), chromedp.WaitVisible(chromedp.ID("notes"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#owner p"); got != "Owner: alice (you)" {
		t.Errorf("owner line %q", got)
	}
	if got := text(t, ctx, "#release-request"); got != "Release" {
		t.Errorf("no Release button for the owner: %q", got)
	}
	if got := text(t, ctx, "#no-notes"); got != "No notes yet." {
		t.Errorf("no-notes line %q", got)
	}
	const note = "called <img src=x onerror=\"window.pwned=1\">\nsecond line & more"
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('note-text').value = `+jsonString(note)+`;
		document.getElementById('add-note').click(); true`)); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the note to be listed", `document.querySelector('#note-list li') !== null`)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('#note-list .text').innerText,
		document.querySelector('#note-list .meta').innerText, document.querySelectorAll('#note-list img').length + '', String(window.pwned)]`))
	if err != nil || len(got) != 4 || got[0] != note || !strings.HasSuffix(got[1], " · alice") || got[2] != "0" || got[3] != "undefined" {
		t.Errorf("listed note %q, %v; want the text as typed, by alice, no element made of it", got, err)
	}
	if r, _ := d.Store.Request(one.Code); len(r.Notes) != 1 || r.Notes[0].Text != note {
		t.Errorf("stored notes %+v", r.Notes)
	}

	// bob's request again: alice reads who has it instead of Open Connection.
	handOver(t, d, two.Code, "bob", "bob")
	if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/requests/"+two.Code), chromedp.WaitVisible(chromedp.ID("notes"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#claimed-by"); !strings.HasPrefix(got, "bob claimed this request: only bob or an admin can open its connection.") {
		t.Errorf("claimed-by notice %q", got)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#open-connection, #claim-request, #release-request').length`)); n != 0 {
		t.Errorf("alice is offered %d of Open Connection, Claim and Release on bob's request", n)
	}
}

// jsonString is s as a JavaScript string literal, line breaks and all.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// handOver hands a request over through the gateway, as a command would, so watchers hear it.
func handOver(t *testing.T, d *desk, code, by, to string) {
	t.Helper()
	if _, err := d.Server.HandOver(tickets.Handover{CodeOrID: code, By: by, To: to}); err != nil {
		t.Fatalf("hand %s over from %s to %q: %v", code, by, to, err)
	}
}
