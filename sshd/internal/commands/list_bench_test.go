package commands

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// BenchmarkRequestList is the gateway's side of `request list` with 1000 open requests: the
// store read, the views and the output, without the SSH transport.
func BenchmarkRequestList(b *testing.B) {
	for _, line := range []string{"request list --json", "request list"} {
		b.Run(strings.ReplaceAll(line, " ", "_"), func(b *testing.B) {
			env := Env{Gateway: &noGateway{}, Store: storeWith(b, 1000), Log: slog.New(slog.DiscardHandler), Now: time.Now}
			b.ReportAllocs()
			for b.Loop() {
				if status := Run(context.Background(), env, Caller{Name: "alice"}, line, strings.NewReader(""), io.Discard, io.Discard); status != 0 {
					b.Fatalf("status %d", status)
				}
			}
		})
	}
}
