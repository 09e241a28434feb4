package viewer_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/sshd"
)

// limitRecorder keeps, from the page's first script on, every text the countdown shows with
// its title, so the test reads what was shown rather than racing the page's ticks.
const limitRecorder = `window.limitSeen = [];
document.addEventListener('DOMContentLoaded', () => {
	const el = document.getElementById('limit');
	new MutationObserver(() => { if (!el.hidden) limitSeen.push(el.textContent + ' | ' + el.title); })
		.observe(el, { childList: true, characterData: true, subtree: true, attributes: true });
});`

// TestWebSessionLimitCountdown: with --session-idle 6s the viewer page shows the time left in
// its bar in the last half of it, counting down, with the gateway's reason as the bar's title;
// when the gateway ends the session the countdown goes and the page says why.
func TestWebSessionLimitCountdown(t *testing.T) {
	ctx := newBrowser(t) // started before the session, so the idle time is not the browser's start
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: limitRecorder})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	e := startWebGateway(t, func(c *sshd.Config) { c.SessionIdle = 6 * time.Second },
		testenv.FixedConsent(protocol.GrantView|protocol.GrantControl), nil, nil)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.web.URL()), chromedp.WaitVisible(chromedp.ID("screen"))); err != nil {
		t.Fatalf("open the viewer: %v", err)
	}
	waitJS(t, ctx, `!document.getElementById('ended').hidden`)

	const why = "The gateway ends the session: no input or file operation from the technician for 6s"
	format := regexp.MustCompile(`^Ends in 0:0(\d) \| ` + regexp.QuoteMeta(why) + `$`)
	var left []string
	for _, s := range evalJS[[]string](t, ctx, `limitSeen`) {
		m := format.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("the countdown showed %q, want Ends in 0:0N | %s", s, why)
		}
		if len(left) == 0 || left[len(left)-1] != m[1] {
			left = append(left, m[1])
		}
	}
	t.Logf("the countdown showed %v seconds left", left)
	if len(left) < 2 || left[0] > "3" {
		t.Errorf("the countdown showed %q seconds left, want it to count down from 3 at most", left)
	}
	for i := 1; i < len(left); i++ {
		if left[i] >= left[i-1] {
			t.Errorf("the countdown went from %s to %s seconds", left[i-1], left[i])
		}
	}
	if hidden := evalJS[bool](t, ctx, `document.getElementById('limit').hidden`); !hidden {
		t.Error("the countdown stays after the session ended")
	}
	if got := evalJS[string](t, ctx, `document.getElementById('ended-reason').textContent`); !strings.Contains(got, "the session was idle for 6s") {
		t.Errorf("the page says the session ended because %q, want idle for 6s", got)
	}
}
