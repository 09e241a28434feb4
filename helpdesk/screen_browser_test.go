package helpdesk_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// TestBrowserConnectScreenSaysScreenUnavailable: the connect screen says when the person's agent
// cannot share the screen, and why; it says nothing of the kind for one that can, and the
// request's rows stay the seed's.
func TestBrowserConnectScreenSaysScreenUnavailable(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	off := d.StartAgent(t, testenv.AgentOptions{Form: tickets.Form{FullName: "Pat Wayland", Screen: tickets.ScreenUnavailable("Wayland session")}})
	on := d.StartAgent(t, testenv.AgentOptions{Form: tickets.Form{FullName: "Pat X11", Screen: tickets.ScreenAvailable}})
	ctx := newBrowser(t)
	signInBrowser(t, ctx, d, "/requests")
	open := func(code string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/requests/"+code), chromedp.WaitVisible(chromedp.ID("request"))); err != nil {
			t.Fatalf("open %s: %v", code, err)
		}
	}
	open(off.Code())
	if got, want := text(t, ctx, "#screen"), "Screen: unavailable — Wayland session. The person’s agent cannot show their screen; you can still work with their files."; got != want {
		t.Errorf("the connect screen says %q, want %q", got, want)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#request tr').length`)); n != 8 {
		t.Errorf("the request has %d rows, want the seed's 8", n)
	}
	open(on.Code())
	if got := text(t, ctx, "#screen"); got != "" {
		t.Errorf("the connect screen of an agent that shares its screen says %q", got)
	}
}
