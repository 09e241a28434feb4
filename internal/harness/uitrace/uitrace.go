// Package uitrace reads the person's app's --ui-trace as the app writes it: a JSON line for each
// thing a window shows (its title, the widget that holds the keyboard, a refusal), written once
// the frame showing it is drawn. A test that drives the app with real X input awaits the line
// saying where the next key goes before pressing it, instead of sleeping.
package uitrace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeout is how long Await waits for a line.
const Timeout = 60 * time.Second

// Trace is one app's trace, read as it comes.
type Trace struct {
	lines chan line // closed when the app closed the trace

	mu   sync.Mutex
	seen strings.Builder
}

type line struct {
	raw   string
	attrs map[string]any
}

// Read reads the trace from r until it ends, and closes r.
func Read(r io.ReadCloser) *Trace {
	t := &Trace{lines: make(chan line, 256)}
	go func() {
		defer close(t.lines)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l := line{raw: sc.Text()}
			json.Unmarshal(sc.Bytes(), &l.attrs)
			t.mu.Lock()
			fmt.Fprintln(&t.seen, l.raw)
			t.mu.Unlock()
			t.lines <- l
		}
	}()
	return t
}

// String is every line read so far.
func (t *Trace) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen.String()
}

// Await reads the trace up to the first line saying msg with the given attributes (name, value
// pairs) and returns its attributes; lines before it are passed over.
func (t *Trace) Await(tb testing.TB, msg string, kv ...string) map[string]any {
	tb.Helper()
	return t.AwaitAll(tb, append([]string{msg}, kv...))[0]
}

// AwaitAll reads the trace until it has read a line for each of lines, in whatever order they
// come, and returns their attributes in the order asked. Each of lines is a msg followed by
// name, value pairs, as Await takes them; other lines are passed over. Two things the app does
// at once, such as one window opening while another closes, are awaited so: awaited one after
// the other, the first would pass over the second if it came first.
func (t *Trace) AwaitAll(tb testing.TB, lines ...[]string) []map[string]any {
	tb.Helper()
	found := make([]map[string]any, len(lines))
	left := len(lines)
	timeout := time.After(Timeout)
	for left > 0 {
		select {
		case l, ok := <-t.lines:
			if !ok {
				tb.Fatalf("the app ended its trace before %s; it traced:\n%s", pending(lines, found), t)
			}
			for i, want := range lines {
				if found[i] == nil && l.attrs["msg"] == want[0] && matches(l.attrs, want[1:]) {
					found[i] = l.attrs
					left--
					break
				}
			}
		case <-timeout:
			tb.Fatalf("timed out waiting for the app to trace %s; it traced:\n%s", pending(lines, found), t)
		}
	}
	return found
}

// pending says the lines not found yet, for a failure's message.
func pending(lines [][]string, found []map[string]any) string {
	var out []string
	for i, l := range lines {
		if found[i] == nil {
			out = append(out, fmt.Sprintf("%s %v", l[0], l[1:]))
		}
	}
	return strings.Join(out, " and ")
}

func matches(attrs map[string]any, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if fmt.Sprint(attrs[kv[i]]) != kv[i+1] {
			return false
		}
	}
	return true
}
