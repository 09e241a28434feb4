package helpdesk_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// TestBrowserListFollowsFilings: a real agent's filing shows in an open list at once, by the
// gateway's server-sent event rather than the ten-second refresh, without reloading the page;
// with notifications allowed, the page raises one whose text is the typed name as text.
func TestBrowserListFollowsFilings(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	d.fileRequest(t, tickets.Request{Form: tickets.Form{FullName: "Already Here", Computer: "PC-0"}})
	ctx := newBrowser(t)
	signInBrowser(t, ctx, d, "/requests")
	// The page is marked, so a reload would show; notifications are allowed, and recorded.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`
		window.notMarkedByReload = true;
		window.raised = [];
		window.Notification = function (title, o) { window.raised.push(title + ' | ' + o.body); };
		window.Notification.permission = 'granted';
		true`)); err != nil {
		t.Fatal(err)
	}
	// The event stream is open before anything is filed.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.events === 'open'`)); err != nil {
		t.Fatalf("the page opened no event stream: %v", err)
	}

	start := time.Now()
	a := d.StartAgent(t, testenv.AgentOptions{Form: tickets.Form{FullName: "<b>Bold</b> Person", Computer: "PC-1", Message: "printer"}})
	shown, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('table.list a[href="/requests/`+a.Code()+`"]') !== null`))
	if err != nil || !shown {
		t.Fatalf("the list never showed %s: %v", a.Code(), err)
	}
	took := time.Since(start)
	t.Logf("the list showed the filing %s after the agent started", took.Round(time.Millisecond))
	if took >= 10*time.Second {
		t.Errorf("the list took %s, as long as its periodic refresh: the event did not reach it", took)
	}
	if same, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notMarkedByReload === true`)); !same {
		t.Error("the page was reloaded")
	}
	raised, err := chromedp.Run(ctx, chromedp.Poll[[]string](`window.raised.length ? window.raised : null`))
	if err != nil || len(raised) != 1 || raised[0] != "New assistance request "+a.Code()+" | <b>Bold</b> Person: printer" {
		t.Errorf("notifications raised: %q, %v", raised, err)
	}
}
