package helpdesk_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/agent"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// chromiumPath is Debian's chromium; scripts/deps.sh installs it.
const chromiumPath = "/usr/bin/chromium"

// The browser shows times in this zone and locale, so the test knows what "local time" reads.
const (
	browserZone   = "Asia/Kolkata" // UTC+05:30: a half-hour offset shows any zone slip
	browserLocale = "en_US"
)

// newBrowser starts a headless Chromium with a fresh profile; it is stopped at cleanup.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("this test needs Chromium at %s (Debian package chromium; scripts/deps.sh installs it): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: browserZone}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: browserLocale})
		return err
	})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// echoRoute serves an agent channel by echoing it, so the test sees a session carry data.
func echoRoute(need protocol.Grant) agent.Route {
	return agent.Route{Need: need, Service: agent.ServiceFunc(func(_ context.Context, ch ssh.Channel, _ <-chan *ssh.Request, _ protocol.Grant) {
		io.Copy(ch, ch)
		ch.CloseWrite()
	})}
}

func TestBrowserSignInConnectScreenAndOpenConnection(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	form := tickets.Form{
		FullName: "Pat Person", UserName: "pat", Computer: "PAT-LAPTOP-07", Email: "pat@example.org",
		Phone: "+1 555 0100", Message: "The printer on floor 2 shows E-42.\nIt worked yesterday.",
	}
	a := d.StartAgent(t, testenv.AgentOptions{Form: form, Grant: protocol.GrantView | protocol.GrantControl,
		Routes: map[string]agent.Route{protocol.FramebufferChannel: echoRoute(protocol.GrantView)}})
	req, err := d.Store.Request(a.Code())
	if err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)

	// Sign in; the list shows the agent's request, online.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("table.list")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.list tbody tr")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{a.Code(), "Pat Person", "PAT-LAPTOP-07", "Online"} {
		if !strings.Contains(row, want) {
			t.Errorf("request list row %q lacks %q", row, want)
		}
	}

	// Open its screen: exactly the seed's rows, in order, with the request's values.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`table.list a[href="/requests/`+a.Code()+`"]`)),
		chromedp.WaitVisible(chromedp.ID("request")),
	); err != nil {
		t.Fatalf("open the connect screen: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#request time').title !== ''`)); err != nil {
		t.Fatalf("local time never shown: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll('#request tr')).map(tr => [tr.querySelector('th').innerText, tr.querySelector('td').innerText])`))
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation(browserZone)
	want := [][]string{
		{"Full Name", "Pat Person"},
		{"User Name", "pat"},
		{"Computer", "PAT-LAPTOP-07"},
		{"Email", "pat@example.org"},
		{"Phone", "+1 555 0100"},
		{"Message", form.Message},
		{"Date Created", req.Created.In(zone).Format("Jan 2, 2006, 3:04 PM")},
		{"Local IP Address", "127.0.0.1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("connect screen rows = %q, want %q", rows, want)
	}
	for i, w := range want {
		got := []string{rows[i][0], strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(rows[i][1])}
		if got[0] != w[0] || got[1] != w[1] {
			t.Errorf("row %d = %q, want %q", i+1, got, w)
		}
	}
	if link, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.actions a[href="/download"]`))); link != "Remote Connect Software" {
		t.Errorf("link to /download reads %q, want Remote Connect Software", link)
	}
	screenshot(t, ctx)

	// Open Connection downloads CODE.otc …
	dir := t.TempDir()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			events := true
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &events,
			})
			return err
		}),
		chromedp.Click(chromedp.ID("open-connection")),
	); err != nil {
		t.Fatalf("press Open Connection: %v", err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, a.Code()+".otc"))
	if err != nil {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("downloaded file: %v (download dir holds %v)", err, entries)
	}

	// … which connects to that very agent.
	o, err := tickets.ParseOTC(data)
	if err != nil {
		t.Fatalf("downloaded .otc: %v", err)
	}
	if o.Request != a.Code() || o.Technician != "alice" {
		t.Errorf("otc for request %s, technician %s; want %s, alice", o.Request, o.Technician, a.Code())
	}
	dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := viewer.DialOTC(dctx, o)
	if err != nil {
		t.Fatalf("dial with the downloaded .otc: %v", err)
	}
	defer s.Close()
	ch, reqs, err := s.OpenChannel(protocol.FramebufferChannel, nil)
	if err != nil {
		t.Fatal(viewer.ChannelError(protocol.FramebufferChannel, err))
	}
	go ssh.DiscardRequests(reqs)
	ch.Write([]byte("hello from the browser's file"))
	ch.CloseWrite()
	if got, err := io.ReadAll(ch); err != nil || string(got) != "hello from the browser's file" {
		t.Fatalf("echo from the agent = %q, %v", got, err)
	}
}

// screenshot saves the page as a PNG in the test's temporary directory, and also where
// HELPDESK_SCREENSHOT says (the README's docs/helpdesk-connect.png is made that way).
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	paths := []string{filepath.Join(t.TempDir(), "connect.png")}
	if p := os.Getenv("HELPDESK_SCREENSHOT"); p != "" {
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("connect screen: %s (%d bytes)", paths[len(paths)-1], len(png))
}

func TestBrowserListRefreshesAndShowsTypedHTMLAsText(t *testing.T) {
	d := startDesk(t, deskOptions{})
	d.addTech(t, "alice")
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.URL+"/requests"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("p.empty")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}

	// A request filed while the list is open appears without a reload.
	evil := tickets.Request{
		Form: tickets.Form{
			FullName: `<img src=x onerror="document.title='pwned'">Eve`,
			UserName: `<script>document.title='pwned'</script>`,
			Computer: `<b>PC</b>`,
			Message:  "</td></tr></table><h1 id=forged>forged</h1>",
			LocalIP:  "10.1.2.3",
		},
	}
	req := d.fileRequest(t, evil)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('table.list a[href="/requests/`+req.Code+`"]') !== null`)); err != nil {
		t.Fatalf("the list never showed the new request: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`table.list a.code`)),
		chromedp.WaitVisible(chromedp.ID("request")),
	); err != nil {
		t.Fatalf("open the connect screen: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll('#request tr')).map(tr => [tr.querySelector('th').innerText, tr.querySelector('td').innerText])`))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{}
	for _, r := range rows {
		shown[r[0]] = r[1]
	}
	for row, want := range map[string]string{"Full Name": evil.FullName, "User Name": evil.UserName, "Computer": evil.Computer, "Message": evil.Message} {
		if shown[row] != want {
			t.Errorf("%s shows %q, want the text %q", row, shown[row], want)
		}
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img, script:not([src]), b, #forged').length`))
	if err != nil || n != 0 {
		t.Errorf("%d elements made from typed text (err %v), want none", n, err)
	}
	if title, _ := chromedp.Run(ctx, chromedp.Title()); title == "pwned" {
		t.Errorf("typed script ran: title %q", title)
	}
}
