package viewer_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/protocol"
)

// heldConsent answers only once released: the person is still reading the question.
type heldConsent struct{ release chan struct{} }

func (h heldConsent) Ask(ctx context.Context, _ protocol.ConsentAsk) (protocol.Grant, error) {
	select {
	case <-h.release:
		return protocol.GrantView | protocol.GrantControl, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TestWebChatBothWays: the viewer page's chat reaches the person before they answered the
// consent question and during the session, and what the person says shows on the page as text.
func TestWebChatBothWays(t *testing.T) {
	consent := heldConsent{release: make(chan struct{})}
	e := startWebConsent(t, consent, nil, nil)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.web.URL()), chromedp.WaitEnabled(chromedp.ID("chat-send"))); err != nil {
		t.Fatalf("open the viewer: %v", err)
	}
	say := func(text string) {
		t.Helper()
		if err := chromedp.Do(ctx, setValue("chat-text", text), chromedp.Click(chromedp.ID("chat-send"))); err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
		select {
		case <-time.After(10 * time.Second):
			t.Fatalf("the person never read %q", text)
		case ev := <-waitChat(e):
			if ev.From != "alice" || ev.Text != text {
				t.Fatalf("the person read %+v, want alice saying %q", ev, text)
			}
		}
	}
	answer := func(text string) {
		t.Helper()
		if err := e.agent.Say(text); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if t.Failed() {
				t.Logf("chat log: %s", evalJS[string](t, ctx, `document.getElementById('chat-log').innerHTML + ' / ' + document.getElementById('chat-note').textContent + ' / view ' + assistViewer.view + ' / ' + document.getElementById('status').textContent`))
			}
		}()
		waitJS(t, ctx, `Array.from(document.querySelectorAll('#chat-log li.them')).some(li => li.textContent === 'Person'+`+jsString(text)+`)`)
	}

	// Before the person answered: the page waits for them, and chat works.
	say("I'll connect in a minute")
	answer("<b>ok</b>, I'm here")
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#chat-log b').length`); n != 0 {
		t.Errorf("the person's text became markup (%d <b> elements)", n)
	}

	close(consent.release)
	waitJS(t, ctx, `window.assistViewer && assistViewer.frames > 0`)
	say("I see your screen")
	answer("great")
	savePageScreenshot(t, ctx, "viewer-chat.png")
}

// waitChat returns the agent's next chat message.
func waitChat(e *webEnv) <-chan agent.ChatMessage {
	out := make(chan agent.ChatMessage, 1)
	go func() {
		for ev := range e.agent.Events {
			if ev.Kind == agent.EventChat {
				out <- *ev.Chat
				return
			}
		}
	}()
	return out
}
