package viewer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jezek/xgb/xproto"

	"github.com/assistkit/assist/protocol"
)

// BenchmarkWebPageFullScreen times a whole-screen change at 1920×1080, from the moment the X
// server has it to the moment the page has drawn it: agent capture and encoding, both SSH hops,
// the viewer's RGBA stream and the page's putImageData. Each op repaints the whole root window
// in another colour and waits, in the page, until the canvas shows it.
//
//	go test -run '^$' -bench WebPage -benchtime 30x ./viewer
func BenchmarkWebPageFullScreen(b *testing.B) {
	e := startWeb(b, protocol.GrantView, nil)
	ctx := e.openViewer(b)
	root := e.x.screen.Root
	colours := []uint32{0x102030, 0x405060, 0x708090, 0xa0b0c0}
	bytes0 := evalJS[float64](b, ctx, `assistViewer.bytes`)
	frames0 := evalJS[float64](b, ctx, `assistViewer.frames`)
	start := time.Now()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := colours[i%len(colours)]
		xproto.ChangeWindowAttributes(e.x.conn, root, xproto.CwBackPixel, []uint32{c})
		if err := xproto.ClearAreaChecked(e.x.conn, false, root, 0, 0, 0, 0).Check(); err != nil {
			b.Fatal(err)
		}
		want := fmt.Sprintf("%d,%d,%d", c>>16, c>>8&0xff, c&0xff)
		expr := `(() => { const d = document.getElementById('screen').getContext('2d').getImageData(1900, 1000, 1, 1).data;
			return d[0] + ',' + d[1] + ',' + d[2] === '` + want + `'; })()`
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			b.Fatalf("the page never showed %s: %v", want, err)
		}
	}
	b.StopTimer()
	secs := time.Since(start).Seconds()
	bytes := evalJS[float64](b, ctx, `assistViewer.bytes`) - bytes0
	frames := evalJS[float64](b, ctx, `assistViewer.frames`) - frames0
	b.ReportMetric(bytes/frames/1e6, "MB/frame")
	b.ReportMetric(bytes/secs/1e6, "MB/s")
	b.ReportMetric(frames/secs, "frames/s")
}
