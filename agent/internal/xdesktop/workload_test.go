package xdesktop

import (
	"context"
	"encoding/json"
	"image"
	"io"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/harness/workload"
)

// TestFollowsWorkload is the agent's half of the end-to-end benchmark in miniature: the
// workload types into its own window (a child of the root), and for each recorded change the
// desktop's WaitChange reports an area that covers the change's marker, whose capture carries
// the change's number.
func TestFollowsWorkload(t *testing.T) {
	d := openTest(t, "-screen", "0", "1280x900x24")
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() {
		runErr <- workload.Run(ctx, workload.Options{Display: d.Display(), Mode: workload.Typing, Out: pw})
		pw.Close()
	}()
	records := make(chan workload.Change, 100)
	go func() {
		defer close(records)
		dec := json.NewDecoder(pr)
		for {
			var c workload.Change
			if dec.Decode(&c) != nil {
				return
			}
			records <- c
		}
	}()

	px := image.NewRGBA(image.Rect(0, 0, 1, 1))
	seen := map[image.Point]int{} // last marker value captured at each point
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	for c := range records {
		if c.N == 0 {
			continue
		}
		m := image.Pt(c.MX, c.MY)
		for seen[m] != c.N {
			rs, err := d.WaitChange(wctx)
			if err != nil {
				t.Fatalf("change %d at %v never seen: %v", c.N, m, err)
			}
			for _, r := range rs {
				if !m.In(r) {
					continue
				}
				if err := d.Capture(px, image.Rectangle{Min: m, Max: m.Add(image.Pt(1, 1))}); err != nil {
					t.Fatal(err)
				}
				seen[m] = workload.MarkerNumber(px.Pix[0], px.Pix[1], px.Pix[2])
			}
		}
		if c.N == 5 {
			break
		}
	}
	cancel()
	pr.Close() // unblock a record being written; Run's error after cancel does not matter
	<-runErr
	if len(seen) < 5 {
		t.Fatalf("saw %d changes, want 5", len(seen))
	}
}
