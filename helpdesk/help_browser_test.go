package helpdesk_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

// TestBrowserHelpPage: a stranger's browser gets the person's page with no sign-in: the agent
// for its computer (Linux here) first, the others listed, under the help desk's name and CSP,
// with no cookie, no form token and nothing of any request.
func TestBrowserHelpPage(t *testing.T) {
	dir, _ := agentDist(t)
	d := startDesk(t, deskOptions{Downloads: dir, HelpDesk: "Example IT"})
	a := d.StartAgent(t, testenv.AgentOptions{Form: tickets.Form{FullName: "Pat Secretname", Computer: "PAT-LAPTOP-07", Message: "my password is hunter2"}})

	res, err := http.Get(d.URL + "/help")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || len(res.Cookies()) != 0 {
		t.Errorf("/help: CSP %q, cookies %v; want the site's CSP and no cookie", csp, res.Cookies())
	}

	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/help"), chromedp.WaitVisible(chromedp.ID("download"))); err != nil {
		t.Fatalf("open /help: %v", err)
	}
	if h1 := text(t, ctx, "h1"); h1 != "Get help from Example IT" {
		t.Errorf("heading %q", h1)
	}
	if got := text(t, ctx, "#download"); got != "Download for Linux, x86-64" {
		t.Errorf("the download offered first is %q, want Linux, x86-64 (the browser runs on Linux)", got)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#download').getAttribute('href')`))
	if err != nil || href != "/help/assist-agent-linux-amd64" {
		t.Errorf("download link %q, %v", href, err)
	}
	others := text(t, ctx, "#others")
	for _, want := range []string{"Windows", "macOS: not offered here", "Linux, ARM64: not offered here"} {
		if !strings.Contains(others, want) {
			t.Errorf("other computers %q lack %q", others, want)
		}
	}
	if stamp := text(t, ctx, "#stamp"); !strings.Contains(stamp, d.Addr) || !strings.Contains(stamp, "SHA256:") {
		t.Errorf("the page does not say where the agent connects: %q", stamp)
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{a.Code(), "Secretname", "PAT-LAPTOP-07", "hunter2", "csrf", "/requests", "signout"} {
		if strings.Contains(html, secret) {
			t.Errorf("/help shows %q", secret)
		}
	}
	if cookies, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`)); cookies != "" {
		t.Errorf("/help set cookies %q", cookies)
	}
	if dir := os.Getenv("ASSIST_SCREENSHOTS"); dir != "" { // the README's first picture
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("body")))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "person-help.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
